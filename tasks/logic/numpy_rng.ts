// NumPy's `np.random.default_rng(int)` (SeedSequence + PCG64) and the few Generator methods that
// Reasoning Gym's knights_knaves sampler uses, so puzzles follow the same random streams as RG's.
// Bit-exact with NumPy >= 1.17: `integers` (Lemire), `choice` with and without replacement (Floyd).

const MASK32 = 0xffffffff;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULTIPLIER = (2549297995355413924n << 64n) | 4865540595714422341n;

// SeedSequence constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const POOL_SIZE = 4;

/** NumPy `SeedSequence(entropy).generate_state(nWords, uint32)` for a non-negative integer entropy. */
export function seedSequenceState(entropy: bigint, nWords: number): number[] {
  if (entropy < 0n) throw new RangeError('SeedSequence entropy must be non-negative');
  const words: number[] = [];
  if (entropy === 0n) words.push(0);
  for (let n = entropy; n > 0n; n >>= 32n) words.push(Number(n & 0xffffffffn));

  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    let v = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    return (v ^ (v >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };

  const pool = new Array<number>(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < words.length ? words[i] : 0);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    }
  }
  for (let src = POOL_SIZE; src < words.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst], hashmix(words[src]));
  }

  const out: number[] = [];
  let hc = INIT_B;
  for (let i = 0; i < nWords; i++) {
    let v = (pool[i % POOL_SIZE] ^ hc) >>> 0;
    hc = Math.imul(hc, MULT_B) >>> 0;
    v = Math.imul(v, hc) >>> 0;
    out.push((v ^ (v >>> 16)) >>> 0);
  }
  return out;
}

/** `np.random.default_rng(seed)`: a PCG64 generator seeded through SeedSequence. */
export class NumpyGenerator {
  private state = 0n;
  private inc = 0n;
  private hasUint32 = false;
  private uinteger = 0;

  constructor(seed: number | bigint) {
    const w = seedSequenceState(BigInt(seed), 8);
    // generate_state(4, uint64): consecutive uint32 pairs read as little-endian uint64 words.
    const u64 = [0, 2, 4, 6].map((k) => BigInt(w[k]) | (BigInt(w[k + 1]) << 32n));
    const initState = (u64[0] << 64n) | u64[1];
    const initSeq = (u64[2] << 64n) | u64[3];
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULTIPLIER + this.inc) & MASK128;
  }

  /** One raw 64-bit PCG64 output (XSL-RR), as `bit_generator.random_raw()`. */
  nextUint64(): bigint {
    this.step();
    const hi = this.state >> 64n;
    const lo = this.state & MASK64;
    const x = hi ^ lo;
    const rot = Number(this.state >> 122n);
    if (rot === 0) return x;
    return ((x >> BigInt(rot)) | (x << BigInt(64 - rot))) & MASK64;
  }

  /** PCG64's 32-bit output: the low half of a 64-bit draw, the high half buffered for the next call. */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    const next = this.nextUint64();
    this.hasUint32 = true;
    this.uinteger = Number(next >> 32n);
    return Number(next & 0xffffffffn);
  }

  /** NumPy's `random_bounded_uint64(off=0, rng)`: uniform in [0, rng], rng < 2^32 (Lemire's method). */
  boundedInclusive(rng: number): number {
    if (!Number.isSafeInteger(rng) || rng < 0 || rng > MASK32) throw new RangeError(`bounded range out of supported span: ${rng}`);
    if (rng === 0) return 0; // NumPy draws nothing for a one-value range
    if (rng === MASK32) return this.nextUint32();
    const rngExcl = rng + 1;
    const small = rngExcl < 2 ** 21; // product below 2^53: plain float arithmetic is exact
    const draw = (): [number, number] => {
      const x = this.nextUint32();
      if (small) {
        const m = x * rngExcl;
        return [Math.floor(m / 2 ** 32), m % 2 ** 32];
      }
      const m = BigInt(x) * BigInt(rngExcl);
      return [Number(m >> 32n), Number(m & 0xffffffffn)];
    };
    let [high, leftover] = draw();
    if (leftover < rngExcl) {
      const threshold = (MASK32 - rng) % rngExcl;
      while (leftover < threshold) [high, leftover] = draw();
    }
    return high;
  }

  /** `Generator.integers(low, high)` with NumPy's default int64 dtype and exclusive `high`. */
  integers(low: number, high: number): number {
    if (high - 1 < low) throw new RangeError(`numpy integers: low >= high (low=${low}, high=${high})`);
    return low + this.boundedInclusive(high - 1 - low);
  }

  /** Index drawn by `Generator.choice(seq)` (with replacement, no weights) from a sequence of length n. */
  choiceIndex(n: number): number {
    if (n <= 0) throw new RangeError('numpy choice: a cannot be empty');
    return this.integers(0, n);
  }

  /** Indices drawn by `Generator.choice(seq, size=k, replace=False)` (Floyd's algorithm, then shuffled). */
  sampleIndices(n: number, k: number): number[] {
    if (k > n) throw new RangeError('numpy choice: cannot take a larger sample than population when replace is False');
    if (n > 10000 && k > Math.floor(n / 50)) throw new RangeError('numpy choice tail-shuffle path is not implemented');
    const out = new Array<number>(k);
    const seen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const val = this.boundedInclusive(j);
      const pick = seen.has(val) ? j : val;
      seen.add(pick);
      out[j - n + k] = pick;
    }
    for (let i = k - 1; i >= 1; i--) {
      const j = this.boundedInclusive(i);
      const tmp = out[j];
      out[j] = out[i];
      out[i] = tmp;
    }
    return out;
  }
}
