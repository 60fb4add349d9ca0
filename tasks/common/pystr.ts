// Python string semantics that Reasoning Gym's scorers depend on: `len` counts code points,
// `str.strip()`/`str.split()` use Python's whitespace set, `float()`/`int()` parse like Python.
// Scorers that must agree with `reasoning_gym` use these, not JS built-ins.

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
