// Integer helpers for the arithmetic generators: Python's floor division and `eval` of the small
// integer expressions Reasoning Gym builds, on bigints, and divisor lists in Reasoning Gym's order.

/** Python raised while evaluating (ZeroDivisionError) where Reasoning Gym calls `eval`. */
export class PyZeroDivisionError extends Error {
  constructor() {
    super('integer division or modulo by zero');
    this.name = 'PyZeroDivisionError';
  }
}

/** Python `a // b` on ints (rounds toward negative infinity). */
export function floorDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new PyZeroDivisionError();
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

export function absBig(a: bigint): bigint {
  return a < 0n ? -a : a;
}

export function gcdBig(a: bigint, b: bigint): bigint {
  a = absBig(a);
  b = absBig(b);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

const TOKEN_RE = /\s*(\d+|[-+*/()])/y;

/**
 * Python `eval(expr.replace('/', '//'))` for expressions of integer literals, `+ - * /`, unary signs
 * and parentheses (Python precedence: unary signs bind tighter than `*` and `//`). Throws
 * {@link PyZeroDivisionError} where Python raises ZeroDivisionError, and a plain Error on syntax
 * Reasoning Gym never produces.
 */
export function evalFloorDiv(expr: string): bigint {
  const tokens: string[] = [];
  TOKEN_RE.lastIndex = 0;
  let pos = 0;
  for (;;) {
    TOKEN_RE.lastIndex = pos;
    const m = TOKEN_RE.exec(expr);
    if (!m) break;
    tokens.push(m[1]);
    pos = TOKEN_RE.lastIndex;
  }
  if (expr.slice(pos).trim() !== '') throw new Error(`cannot evaluate '${expr}': unexpected text at ${pos}`);
  let i = 0;
  const peek = () => tokens[i];
  const expr_ = (): bigint => {
    let v = term();
    while (peek() === '+' || peek() === '-') {
      const op = tokens[i++];
      const t = term();
      v = op === '+' ? v + t : v - t;
    }
    return v;
  };
  const term = (): bigint => {
    let v = factor();
    while (peek() === '*' || peek() === '/') {
      const op = tokens[i++];
      const f = factor();
      v = op === '*' ? v * f : floorDiv(v, f);
    }
    return v;
  };
  const factor = (): bigint => {
    const t = peek();
    if (t === '-') {
      i++;
      return -factor();
    }
    if (t === '+') {
      i++;
      return factor();
    }
    if (t === '(') {
      i++;
      const v = expr_();
      if (tokens[i++] !== ')') throw new Error(`cannot evaluate '${expr}': missing ')'`);
      return v;
    }
    if (t !== undefined && /^\d+$/.test(t)) {
      i++;
      return BigInt(t);
    }
    throw new Error(`cannot evaluate '${expr}': unexpected ${t === undefined ? 'end' : `'${t}'`}`);
  };
  const value = expr_();
  if (i !== tokens.length) throw new Error(`cannot evaluate '${expr}': unexpected '${tokens[i]}'`);
  return value;
}

// ---- divisors -------------------------------------------------------------------------------------

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

const MR_BASES = [2n, 3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n];

/** Miller-Rabin with the first 13 prime bases: exact below 3.3e24, overwhelmingly reliable above. */
function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  for (const p of MR_BASES) {
    if (n === p) return true;
    if (n % p === 0n) return false;
  }
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  outer: for (const a of MR_BASES) {
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
    }
    return false;
  }
  return true;
}

/** A non-trivial factor of the odd composite n (Pollard-Brent rho). */
function pollardBrent(n: bigint): bigint {
  for (let c = 1n; ; c++) {
    const f = (x: bigint) => (x * x + c) % n;
    let y = 2n;
    let r = 1;
    let q = 1n;
    let g = 1n;
    let x = y;
    let ys = y;
    const m = 64;
    while (g === 1n) {
      x = y;
      for (let i = 0; i < r; i++) y = f(y);
      let k = 0;
      while (k < r && g === 1n) {
        ys = y;
        for (let i = 0; i < Math.min(m, r - k); i++) {
          y = f(y);
          q = (q * absBig(x - y)) % n;
        }
        g = gcdBig(q, n);
        k += m;
      }
      r *= 2;
    }
    if (g === n) {
      do {
        ys = f(ys);
        g = gcdBig(absBig(x - ys), n);
      } while (g === 1n);
    }
    if (g !== n) return g;
  }
}

function factorInto(n: bigint, out: Map<bigint, number>): void {
  if (n === 1n) return;
  if (isProbablePrime(n)) {
    out.set(n, (out.get(n) ?? 0) + 1);
    return;
  }
  const d = pollardBrent(n);
  factorInto(d, out);
  factorInto(n / d, out);
}

/** Prime factorisation of n >= 1, as prime -> multiplicity. */
function factorize(n: bigint): Map<bigint, number> {
  const out = new Map<bigint, number>();
  for (let p = 2n; p < 1000n && p * p <= n; p += p === 2n ? 1n : 2n) {
    while (n % p === 0n) {
      out.set(p, (out.get(p) ?? 0) + 1);
      n /= p;
    }
  }
  factorInto(n, out);
  return out;
}

/** All positive divisors of n >= 1, ascending. */
export function sortedDivisors(n: bigint): bigint[] {
  if (n <= 0n) return [];
  if (n <= 1_000_000_000_000n) {
    // Direct trial up to sqrt(n) in doubles (exact below 2^53).
    const x = Number(n);
    const low: number[] = [];
    const high: number[] = [];
    for (let i = 1; i * i <= x; i++) {
      if (x % i === 0) {
        low.push(i);
        if (i * i !== x) high.push(x / i);
      }
    }
    return [...low, ...high.reverse()].map(BigInt);
  }
  let divisors = [1n];
  for (const [p, k] of factorize(n)) {
    const next: bigint[] = [];
    for (const d of divisors) {
      let pk = 1n;
      for (let e = 0; e <= k; e++) {
        next.push(d * pk);
        pk *= p;
      }
    }
    divisors = next;
  }
  return divisors.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Reasoning Gym's `find_common_divisors(a, b)`: the divisors of gcd(|a|, |b|) in the order its loop
 * appends them: for each i = 1, 2, ... with i * i <= g dividing g, first i, then g // i (once for squares).
 * Empty when both are 0.
 */
export function findCommonDivisors(a: bigint, b: bigint): bigint[] {
  const g = gcdBig(a, b);
  const out: bigint[] = [];
  for (const d of sortedDivisors(g)) {
    if (d * d > g) break;
    out.push(d);
    if (d * d !== g) out.push(g / d);
  }
  return out;
}
