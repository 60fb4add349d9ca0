// Python value semantics that number_sorting's generator and scorer depend on: `repr(float)`, numpy's
// `np.round`, `json.loads` (with Python's NaN/Infinity extensions and int/float distinction), a small
// `eval` for list literals, and `float(x)` on the resulting values.

import { pyFloat } from '../common/pystr.js';

/** A Python value as produced by `json.loads` or a literal `eval`. */
export type PyValue =
  | { type: 'int'; value: bigint }
  | { type: 'float'; value: number }
  | { type: 'str'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'none' }
  | { type: 'list'; items: PyValue[] }
  | { type: 'tuple'; items: PyValue[] }
  | { type: 'dict'; keys: PyValue[] };

/** Python `repr(x)` / `str(x)` for a float (also numpy's `str(np.float64(x))`). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest round-trip digits, as Python's repr does.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const fracPart = digits.slice(exp + 1) || '0';
    return `${sign}${intPart}.${fracPart}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${head}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** numpy's `power_of_ten(n)`: exact table below 1e9, then repeated multiplication by 10. */
function powerOfTen(n: number): number {
  if (n < 9) return 10 ** n;
  let ret = 1e9;
  for (let k = n; k > 9 && Number.isFinite(ret); k--) ret *= 10;
  return ret;
}

/** C `rint` in the default rounding mode: round half to even, keeping the sign of zero. */
export function rint(y: number): number {
  if (!Number.isFinite(y)) return y;
  const fl = Math.floor(y);
  const diff = y - fl;
  let r: number;
  if (diff < 0.5) r = fl;
  else if (diff > 0.5) r = fl + 1;
  else r = fl % 2 === 0 ? fl : fl + 1;
  if (r === 0) return y < 0 || Object.is(y, -0) ? -0 : 0;
  return r;
}

/**
 * numpy `np.round(x, decimals)` on a float64: `rint(x * 10**d) / 10**d` for d >= 0 and
 * `rint(x / 10**-d) * 10**-d` for d < 0 (checked against numpy 2.4 on a million random values).
 */
export function numpyRound(x: number, decimals: number): number {
  if (decimals >= 0) {
    const f = powerOfTen(decimals);
    return rint(x * f) / f;
  }
  const f = powerOfTen(-decimals);
  return rint(x / f) * f;
}

/** Python `repr(s)` for a string without quotes or backslashes in it (a number's `str`). */
function simpleStrRepr(s: string): string {
  return `'${s}'`;
}

/** Python `str(list_of_str)` for strings that need no escaping, e.g. `['-1.5', '2.0']`. */
export function pyStrListRepr(items: readonly string[]): string {
  return `[${items.map(simpleStrRepr).join(', ')}]`;
}

class PyParseError extends Error {}

const JSON_WS = new Set([' ', '\t', '\n', '\r']);
const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const JSON_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Python `json.loads(text)` (C scanner, strict mode): JSON plus the literals `NaN`, `Infinity` and
 * `-Infinity`; numbers with a fraction or exponent become floats, others ints. Returns null where Python
 * raises (JSONDecodeError, or RecursionError on absurd nesting).
 */
export function pyJsonLoads(text: string): PyValue | null {
  let pos = 0;
  const fail = (): never => {
    throw new PyParseError();
  };
  const skipWs = () => {
    while (pos < text.length && JSON_WS.has(text[pos])) pos++;
  };
  const parseString = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      if (pos >= text.length) fail();
      const ch = text[pos];
      if (ch === '"') {
        pos++;
        return out;
      }
      if (ch < ' ') fail(); // strict: raw control characters are invalid
      if (ch !== '\\') {
        out += ch;
        pos++;
        continue;
      }
      const esc = text[pos + 1];
      if (esc === undefined) fail();
      if (esc === 'u') {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail();
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 6;
      } else {
        const mapped = JSON_ESCAPES[esc];
        if (mapped === undefined) fail();
        out += mapped;
        pos += 2;
      }
    }
  };
  const parseValue = (depth: number): PyValue => {
    if (depth > 900) fail(); // CPython's recursion limit stops far earlier than JS's stack
    if (pos >= text.length) fail();
    const ch = text[pos];
    if (ch === '"') return { type: 'str', value: parseString() };
    if (ch === '{') {
      pos++;
      const keys: PyValue[] = [];
      const seen = new Set<string>(); // later duplicates overwrite: len(dict) counts distinct keys
      skipWs();
      if (text[pos] === '}') {
        pos++;
        return { type: 'dict', keys };
      }
      for (;;) {
        skipWs();
        if (text[pos] !== '"') fail();
        const key = parseString();
        if (!seen.has(key)) keys.push({ type: 'str', value: key });
        seen.add(key);
        skipWs();
        if (text[pos] !== ':') fail();
        pos++;
        skipWs();
        parseValue(depth + 1);
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return { type: 'dict', keys };
        }
        fail();
      }
    }
    if (ch === '[') {
      pos++;
      const items: PyValue[] = [];
      skipWs();
      if (text[pos] === ']') {
        pos++;
        return { type: 'list', items };
      }
      for (;;) {
        skipWs();
        items.push(parseValue(depth + 1));
        skipWs();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return { type: 'list', items };
        }
        fail();
      }
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return { type: 'none' };
    }
    if (text.startsWith('true', pos)) {
      pos += 4;
      return { type: 'bool', value: true };
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return { type: 'bool', value: false };
    }
    if (text.startsWith('NaN', pos)) {
      pos += 3;
      return { type: 'float', value: NaN };
    }
    if (text.startsWith('Infinity', pos)) {
      pos += 8;
      return { type: 'float', value: Infinity };
    }
    if (text.startsWith('-Infinity', pos)) {
      pos += 9;
      return { type: 'float', value: -Infinity };
    }
    JSON_NUMBER.lastIndex = pos;
    const m = JSON_NUMBER.exec(text);
    if (!m) fail();
    pos += m![0].length;
    if (m![1] !== undefined || m![2] !== undefined) return { type: 'float', value: Number(m![0]) };
    return { type: 'int', value: BigInt(m![0]) };
  };
  try {
    if (text.startsWith('\ufeff')) return null; // "Unexpected UTF-8 BOM"
    skipWs();
    const value = parseValue(0);
    skipWs();
    return pos === text.length ? value : null; // "Extra data"
  } catch (err) {
    if (err instanceof PyParseError) return null;
    throw err;
  }
}

const PY_STR_ESCAPES: Record<string, string> = {
  '\\': '\\', "'": "'", '"': '"', a: '\u0007', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\u000b', '\n': '',
};

/**
 * A small subset of Python `eval` for literals: lists and tuples (nested, trailing commas allowed) of
 * quoted strings (no prefixes), numbers with an optional sign, True, False and None. Returns null for
 * anything else, including expressions Python could evaluate; this is enough for the list reprs that
 * Reasoning Gym writes as answers.
 */
export function pyLiteralEval(text: string): PyValue | null {
  let pos = 0;
  const fail = (): never => {
    throw new PyParseError();
  };
  const skipWs = () => {
    while (pos < text.length && /[ \t\n\r\f\v]/.test(text[pos])) pos++;
  };
  const parseString = (): string => {
    const quote = text[pos];
    pos++;
    let out = '';
    for (;;) {
      if (pos >= text.length) fail();
      const ch = text[pos];
      if (ch === quote) {
        pos++;
        return out;
      }
      if (ch === '\n') fail();
      if (ch !== '\\') {
        out += ch;
        pos++;
        continue;
      }
      const esc = text[pos + 1];
      if (esc === undefined) fail();
      const hexLen = esc === 'x' ? 2 : esc === 'u' ? 4 : esc === 'U' ? 8 : 0;
      if (hexLen > 0) {
        const hex = text.slice(pos + 2, pos + 2 + hexLen);
        if (hex.length !== hexLen || !/^[0-9a-fA-F]+$/.test(hex)) fail();
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) fail();
        out += String.fromCodePoint(cp);
        pos += 2 + hexLen;
      } else if (/[0-7]/.test(esc)) {
        const oct = /^[0-7]{1,3}/.exec(text.slice(pos + 1))![0];
        out += String.fromCodePoint(parseInt(oct, 8));
        pos += 1 + oct.length;
      } else if (PY_STR_ESCAPES[esc] !== undefined) {
        out += PY_STR_ESCAPES[esc];
        pos += 2;
      } else {
        out += '\\' + esc; // Python keeps unknown escapes as written
        pos += 2;
      }
    }
  };
  const NUMBER = /(?:[0-9](?:_?[0-9])*)?(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:[eE][-+]?[0-9](?:_?[0-9])*)?/y;
  const parseValue = (depth: number): PyValue => {
    if (depth > 200) fail();
    skipWs();
    const ch = text[pos];
    if (ch === undefined) fail();
    if (ch === "'" || ch === '"') {
      if (text.startsWith(ch.repeat(3), pos)) fail(); // triple quotes: not supported
      return { type: 'str', value: parseString() };
    }
    if (ch === '[' || ch === '(') {
      const close = ch === '[' ? ']' : ')';
      pos++;
      const items: PyValue[] = [];
      let sawComma = false;
      for (;;) {
        skipWs();
        if (text[pos] === close) {
          pos++;
          // `(x)` is just x; `()` and `(x,)` are tuples.
          if (close === ')' && items.length === 1 && !sawComma) return items[0];
          return close === ']' ? { type: 'list', items } : { type: 'tuple', items };
        }
        items.push(parseValue(depth + 1));
        skipWs();
        if (text[pos] === ',') {
          sawComma = true;
          pos++;
          continue;
        }
        if (text[pos] !== close) fail();
      }
    }
    for (const [word, value] of [
      ['True', { type: 'bool', value: true }],
      ['False', { type: 'bool', value: false }],
      ['None', { type: 'none' }],
    ] as const) {
      if (text.startsWith(word, pos) && !/[\p{L}\p{N}_]/u.test(text[pos + word.length] ?? '')) {
        pos += word.length;
        return value as PyValue;
      }
    }
    if (ch === '-' || ch === '+') {
      pos++;
      const operand = parseValue(depth + 1);
      const negate = ch === '-';
      if (operand.type === 'int') return { type: 'int', value: negate ? -operand.value : operand.value };
      if (operand.type === 'float') return { type: 'float', value: negate ? -operand.value : operand.value };
      if (operand.type === 'bool') return { type: 'int', value: (operand.value ? 1n : 0n) * (negate ? -1n : 1n) };
      fail();
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    const token = m ? m[0] : '';
    if (!/^(?:[0-9]|\.[0-9])/.test(token)) fail();
    pos += token.length;
    if (/[\p{L}\p{N}_]/u.test(text[pos] ?? '')) fail();
    const clean = token.replace(/_/g, '');
    if (/[.eE]/.test(clean)) return { type: 'float', value: Number(clean.startsWith('.') ? `0${clean}` : clean) };
    if (/^0+[1-9]/.test(clean)) fail(); // Python rejects leading zeros in decimal ints
    return { type: 'int', value: BigInt(clean) };
  };
  try {
    const value = parseValue(0);
    skipWs();
    return pos === text.length ? value : null;
  } catch (err) {
    if (err instanceof PyParseError) return null;
    throw err;
  }
}

/** Python `float(v)`; null where Python raises (ValueError, TypeError, OverflowError). */
export function pyFloatOf(v: PyValue): number | null {
  switch (v.type) {
    case 'float':
      return v.value;
    case 'bool':
      return v.value ? 1 : 0;
    case 'int': {
      const x = Number(v.value); // correctly rounded, like int.__float__
      return Number.isFinite(x) ? x : null; // OverflowError: int too large to convert to float
    }
    case 'str':
      return pyFloat(v.value);
    default:
      return null;
  }
}

/** Python `len(v)` and iteration for sized iterables (list, tuple, str by code point, dict keys). */
export function pyIterate(v: PyValue): PyValue[] | null {
  switch (v.type) {
    case 'list':
    case 'tuple':
      return v.items;
    case 'dict':
      return v.keys;
    case 'str':
      return Array.from(v.value, (ch) => ({ type: 'str', value: ch }) as PyValue);
    default:
      return null;
  }
}
