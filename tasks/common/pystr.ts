// Python string semantics that Reasoning Gym's scorers depend on: `len` counts code points,
// `str.strip()`/`str.split()` use Python's whitespace set, and `Decimal(a) == Decimal(b)` compares
// decimal strings exactly. Scorers that must agree with `reasoning_gym` use these, not JS built-ins.

/** Characters for which Python's `str.isspace()` is true. */
const PY_WHITESPACE = '\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
export const PY_WS_CLASS = `[${PY_WHITESPACE.replace(/[\\\]^-]/g, '\\$&')}]`;
const LEADING_WS = new RegExp(`^${PY_WS_CLASS}+`, 'u');
const TRAILING_WS = new RegExp(`${PY_WS_CLASS}+$`, 'u');
const WS_RUN = new RegExp(`${PY_WS_CLASS}+`, 'u');

/** Python `len(s)`: number of Unicode code points (not UTF-16 units). */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function isPyWhitespace(ch: string): boolean {
  return ch.length > 0 && PY_WHITESPACE.includes(ch);
}

/** Python `s.strip()` with no argument. */
export function pyStrip(s: string): string {
  return s.replace(LEADING_WS, '').replace(TRAILING_WS, '');
}

/** Python `s.split()` with no argument: split on whitespace runs, no empty strings. */
export function pySplit(s: string): string[] {
  const stripped = pyStrip(s);
  return stripped === '' ? [] : stripped.split(WS_RUN);
}

/**
 * Python `s.strip(chars)` with explicit characters.
 */
export function pyStripChars(s: string, chars: string): string {
  const set = new Set(Array.from(chars));
  const cps = Array.from(s);
  let start = 0;
  let end = cps.length;
  while (start < end && set.has(cps[start])) start++;
  while (end > start && set.has(cps[end - 1])) end--;
  return cps.slice(start, end).join('');
}

/** A parsed Python `Decimal` value, normalised so that equal numbers have equal fields. */
export type PyDecimal =
  | { kind: 'finite'; negative: boolean; digits: string; exponent: number }
  | { kind: 'infinity'; negative: boolean }
  | { kind: 'nan'; signaling: boolean };

const DECIMAL_RE = /^([+-])?(?:(\d+(?:_\d+)*)(?:\.(\d+(?:_\d+)*)?)?|\.(\d+(?:_\d+)*))(?:[eE]([+-]?\d+(?:_\d+)*))?$/;
const SPECIAL_RE = /^([+-])?(inf|infinity|nan|snan)(\d*)$/i;

/**
 * Parse a string the way Python's `Decimal(str)` does; returns null where Python raises
 * `InvalidOperation` (ASCII digits only; Python also accepts other Unicode decimal digits).
 */
export function parsePyDecimal(text: string): PyDecimal | null {
  const s = pyStrip(text);
  const special = SPECIAL_RE.exec(s);
  if (special) {
    const word = special[2].toLowerCase();
    if (word === 'inf' || word === 'infinity') {
      return special[3] ? null : { kind: 'infinity', negative: special[1] === '-' };
    }
    return { kind: 'nan', signaling: word === 'snan' };
  }
  const m = DECIMAL_RE.exec(s);
  if (!m) return null;
  const intPart = (m[2] ?? '').replace(/_/g, '');
  const fracPart = (m[3] ?? m[4] ?? '').replace(/_/g, '');
  const exp = m[5] ? Number(m[5].replace(/_/g, '')) : 0;
  let digits = (intPart + fracPart).replace(/^0+/, '');
  let exponent = exp - fracPart.length;
  if (digits === '') return { kind: 'finite', negative: false, digits: '0', exponent: 0 };
  const trailing = digits.length - digits.replace(/0+$/, '').length;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return { kind: 'finite', negative: m[1] === '-', digits, exponent };
}

/**
 * Python `Decimal(a) == Decimal(b)`. Returns null where Python would raise (an unparsable string,
 * or a comparison involving a signaling NaN), so callers can mirror a `try/except`.
 */
export function pyDecimalEquals(a: string, b: string): boolean | null {
  const x = parsePyDecimal(a);
  const y = parsePyDecimal(b);
  if (!x || !y) return null;
  if ((x.kind === 'nan' && x.signaling) || (y.kind === 'nan' && y.signaling)) return null;
  if (x.kind === 'nan' || y.kind === 'nan') return false;
  if (x.kind === 'infinity' || y.kind === 'infinity') {
    return x.kind === y.kind && x.negative === y.negative;
  }
  if (x.digits === '0' && y.digits === '0') return true;
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

/** Python `float(s)` for decimal strings (None where Python raises ValueError). */
export function pyFloat(text: string): number | null {
  const s = pyStrip(text).replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}

/** Python `int(s)` for base-10 strings (None where Python raises ValueError). */
export function pyInt(text: string): bigint | null {
  const s = pyStrip(text);
  if (!/^[+-]?\d+(_\d+)*$/.test(s)) return null;
  return BigInt(s.replace(/_/g, ''));
}
