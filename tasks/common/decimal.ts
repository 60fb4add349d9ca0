// CPython's `decimal.Decimal(str)` parsing and `==`, exactly, and Reasoning Gym's
// `utils.compute_decimal_reward` built on it. CPython drops every underscore (after stripping
// whitespace), reads any Unicode decimal digit and enforces libmpdec's exponent limits.

import { pyLen, pyStrip } from './pystr.js';

/** A parsed CPython Decimal; finite values are normalised so that equal numbers compare field by field. */
export type CPythonDecimal =
  | { kind: 'finite'; negative: boolean; zero: boolean; digits: string; exponent: bigint }
  | { kind: 'infinity'; negative: boolean }
  | { kind: 'nan'; signaling: boolean };

// libmpdec limits on 64-bit builds: MPD_MAX_EMAX and MPD_MIN_ETINY = MPD_MIN_EMIN - (MPD_MAX_PREC - 1).
const MAX_EMAX = 999_999_999_999_999_999n;
const MIN_ETINY = -1_999_999_999_999_999_997n;

const ND = /^\p{Nd}$/u;
const digitCache = new Map<number, number>();

/**
 * Value of a Unicode decimal digit (general category Nd). Unicode assigns these only in ascending
 * runs of ten starting at zero, so the offset from the start of the contiguous Nd run, mod 10, is the value.
 */
function unicodeDigitValue(cp: number): number {
  const cached = digitCache.get(cp);
  if (cached !== undefined) return cached;
  let start = cp;
  while (start > 0 && ND.test(String.fromCodePoint(start - 1))) start--;
  const value = (cp - start) % 10;
  digitCache.set(cp, value);
  return value;
}

/**
 * What CPython's `_decimal` hands to libmpdec: strip Python whitespace, then drop every `_`, keep ASCII,
 * replace Unicode decimal digits by ASCII ones. Null where CPython already fails (any other character;
 * inner non-ASCII whitespace becomes a space, which libmpdec rejects anyway).
 */
function asciiDecimalText(text: string): string | null {
  let out = '';
  for (const ch of pyStrip(text)) {
    const cp = ch.codePointAt(0)!;
    if (ch === '_') continue;
    if (cp > 0 && cp <= 127) out += ch;
    else if (ND.test(ch)) out += String(unicodeDigitValue(cp));
    else return null;
  }
  return out;
}

const FINITE_RE = /^([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const SPECIAL_RE = /^([+-])?(?:(inf|infinity)|(nan|snan)\d*)$/i;

/** Python `Decimal(text)`; null where CPython raises `InvalidOperation`. */
export function parseCPythonDecimal(text: string): CPythonDecimal | null {
  const s = asciiDecimalText(text);
  if (s === null) return null;
  const special = SPECIAL_RE.exec(s);
  if (special) {
    if (special[2]) return { kind: 'infinity', negative: special[1] === '-' };
    return { kind: 'nan', signaling: special[3].toLowerCase() === 'snan' };
  }
  const m = FINITE_RE.exec(s);
  if (!m) return null;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? m[4] ?? '';
  const exponent = BigInt(m[5] ?? '0') - BigInt(fracPart.length);
  let digits = (intPart + fracPart).replace(/^0+/, '');
  // libmpdec rejects exponents outside its range (the adjusted exponent counts the coefficient's digits).
  if (exponent < MIN_ETINY || exponent + BigInt(Math.max(digits.length, 1) - 1) > MAX_EMAX) return null;
  const negative = m[1] === '-';
  if (digits === '') return { kind: 'finite', negative, zero: true, digits: '0', exponent: 0n };
  const trimmed = digits.replace(/0+$/, '');
  const normalisedExponent = exponent + BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return { kind: 'finite', negative, zero: false, digits, exponent: normalisedExponent };
}

/**
 * Python `Decimal(a) == Decimal(b)`: null where Python raises (a string Decimal cannot read, or a
 * signaling NaN in the comparison), so callers can mirror a `try/except`.
 */
export function cpythonDecimalEquals(a: string, b: string): boolean | null {
  const x = parseCPythonDecimal(a);
  if (x === null) return null;
  const y = parseCPythonDecimal(b);
  if (y === null) return null;
  if ((x.kind === 'nan' && x.signaling) || (y.kind === 'nan' && y.signaling)) return null;
  if (x.kind === 'nan' || y.kind === 'nan') return false;
  if (x.kind === 'infinity' || y.kind === 'infinity') {
    return x.kind === y.kind && x.negative === y.negative;
  }
  if (x.zero || y.zero) return x.zero && y.zero;
  return x.negative === y.negative && x.digits === y.digits && x.exponent === y.exponent;
}

/**
 * `reasoning_gym.utils.compute_decimal_reward`: 1.0 when the answer equals the oracle as a Decimal
 * (after removing commas when `stripCommas`); otherwise len(oracle) / len(answer) when the oracle occurs
 * in the answer (both comma-stripped), else 0. Where RG itself would raise (an oracle that is not a
 * string, or a candidate that is neither a string nor None) this returns 0.
 */
export function computeDecimalReward(answer: unknown, oracle: unknown, stripCommas = true): number {
  if (answer === null || answer === undefined) return 0;
  if (typeof answer !== 'string' || typeof oracle !== 'string') return 0;
  if (answer.length === 0) return 0;
  let a = answer;
  let o = oracle;
  if (stripCommas) {
    a = a.replaceAll(',', '');
    o = o.replaceAll(',', '');
  }
  if (cpythonDecimalEquals(a, o) === true) return 1;
  // An answer of commas only leaves '' and RG divides by zero (it raises); an error scores 0 here.
  if (a.length === 0) return 0;
  // `oracle in answer` is a substring test; an empty oracle is contained and gives 0 / len = 0.
  if (a.includes(o)) return pyLen(o) / pyLen(a);
  return 0;
}
