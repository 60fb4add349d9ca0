// Reasoning Gym's `fraction_simplification` task: reduce a fraction (plain or LaTeX) to lowest terms.
// Same config, RNG stream and scorer (1.0 exact, 0.1 / 0.05 / 0.01 partial credit as in RG).

import { z } from 'zod';

import { baseTaskConfigShape, orderedRange } from '../common/config.js';
import { PY_WS_CLASS, pyStrip, pyStripChars } from '../common/pystr.js';
import { rngForItem } from '../common/rng.js';
import { defineTask, type TaskEntry } from '../types.js';

const DATASET_NAME = 'fraction_simplification';

export const FRACTION_STYLES = ['plain', 'latex_inline', 'latex_frac', 'latex_dfrac'] as const;
export type FractionStyle = (typeof FRACTION_STYLES)[number];

export const fractionSimplificationConfigSchema = z
  .object({
    ...baseTaskConfigShape,
    min_value: z.number().int().default(1).describe('smallest numerator/denominator of the reduced fraction (at least 1)'),
    max_value: z.number().int().default(1000).describe('largest numerator/denominator of the reduced fraction (> min_value)'),
    min_factor: z.number().int().default(1).describe('smallest common factor multiplied into both parts (at least 1)'),
    max_factor: z.number().int().default(100).describe('largest common factor multiplied into both parts (>= min_factor)'),
    styles: z
      .array(z.string())
      .default([...FRACTION_STYLES])
      .describe(`fraction formats to draw from: ${FRACTION_STYLES.join(', ')}`),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.min_value <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_value'],
        message: `min_value (${config.min_value}) must be positive; set min_value to 1 or more`,
      });
    }
    if (config.max_value <= config.min_value) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_value'],
        message: `max_value (${config.max_value}) must be > min_value (${config.min_value}); raise max_value or lower min_value`,
      });
    }
    if (config.min_factor < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_factor'],
        message: `min_factor (${config.min_factor}) must be at least 1; set min_factor to 1 or more`,
      });
    }
    orderedRange<typeof config>('min_factor', 'max_factor')(config, ctx);
    config.styles.forEach((style, i) => {
      if (!(FRACTION_STYLES as readonly string[]).includes(style)) {
        ctx.addIssue({
          code: 'custom',
          path: ['styles', i],
          message: `styles[${i}] '${style}' is not a fraction style; use some of: ${FRACTION_STYLES.join(', ')}`,
        });
      }
    });
    // Departures from RG, which accepts these configs but then fails or loses exactness when generating:
    if (config.styles.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['styles'],
        message: `styles must not be empty; list at least one of: ${FRACTION_STYLES.join(', ')}`,
      });
    }
    if (config.max_value * config.max_factor > Number.MAX_SAFE_INTEGER) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_factor'],
        message: `max_value * max_factor (${config.max_value} * ${config.max_factor}) must not exceed 2^53 - 1 so fractions stay exact; lower max_value or max_factor`,
      });
    }
  });

export type FractionSimplificationConfig = z.output<typeof fractionSimplificationConfigSchema>;

function gcd2(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return Math.abs(a);
}

function formatFraction(num: number, den: number, style: string): string {
  switch (style) {
    case 'plain':
      return `${num}/${den}`;
    case 'latex_inline':
      return `$${num}/${den}$`;
    case 'latex_frac':
      return `$\\frac{${num}}{${den}}$`;
    case 'latex_dfrac':
      return `$\\dfrac{${num}}{${den}}$`;
    default:
      throw new Error(`unknown fraction style '${style}'`);
  }
}

/** Value 0-9 of a Unicode decimal digit (Nd digits come in contiguous runs of ten, 0 to 9). */
function ndDigitValue(cp: number): number {
  let start = cp;
  while (ND_CHAR.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}
const ND_CHAR = /^\p{Nd}$/u;

/** Python's default limit on the digits `int(str)` converts (sys.get_int_max_str_digits()). */
const PY_INT_MAX_STR_DIGITS = 4300;
const PY_INT_RE = /^[+-]?\p{Nd}+(?:_\p{Nd}+)*$/u;

/**
 * Python `int(s)` in base 10 for an already stripped string: optional sign, Unicode decimal digits
 * with single underscores between them, at most 4300 digits; null where Python raises ValueError.
 */
function pyIntUnicode(s: string): bigint | null {
  if (!PY_INT_RE.test(s)) return null;
  let digits = '';
  for (const ch of s) {
    if (ch === '+' || ch === '-' || ch === '_') continue;
    const cp = ch.codePointAt(0)!;
    digits += cp >= 0x30 && cp <= 0x39 ? ch : String(ndDigitValue(cp));
  }
  if (digits.length > PY_INT_MAX_STR_DIGITS) return null;
  const value = BigInt(digits);
  return s.startsWith('-') ? -value : value;
}

// RG: re.match(r"\\(?:frac|dfrac)\s*{\s*(\d+)\s*}\s*{\s*(\d+)\s*}", cleaned, re.IGNORECASE), where
// Python's \s is str.isspace() and \d any Unicode decimal digit; anchored at the start only.
const LATEX_FRACTION_RE = new RegExp(
  `^\\\\(?:frac|dfrac)${PY_WS_CLASS}*\\{${PY_WS_CLASS}*(\\p{Nd}+)${PY_WS_CLASS}*\\}${PY_WS_CLASS}*\\{${PY_WS_CLASS}*(\\p{Nd}+)${PY_WS_CLASS}*\\}`,
  'iu',
);

/** RG `_extract_fraction`: [numerator, denominator], or null where RG returns None. */
function extractFraction(answer: string): [bigint, bigint] | null {
  const cleaned = pyStrip(pyStripChars(pyStrip(answer), '$'));
  const latex = LATEX_FRACTION_RE.exec(cleaned);
  if (latex) {
    const num = pyIntUnicode(latex[1]);
    const den = pyIntUnicode(latex[2]);
    return num === null || den === null ? null : [num, den];
  }
  const slash = cleaned.indexOf('/');
  if (slash >= 0) {
    const num = pyIntUnicode(pyStrip(cleaned.slice(0, slash)));
    const den = pyIntUnicode(pyStrip(cleaned.slice(slash + 1)));
    return num === null || den === null ? null : [num, den];
  }
  return null;
}

class MissingKey extends Error {}

/** Python `int_value == metadata[key]` for a metadata value read from JSON (KeyError if absent). */
function pyIntEquals(value: bigint, metadata: Record<string, unknown>, key: string): boolean {
  if (!(key in metadata)) throw new MissingKey(key);
  const other = metadata[key];
  if (typeof other === 'bigint') return value === other;
  if (typeof other === 'boolean') return value === (other ? 1n : 0n);
  if (typeof other === 'number') return Number.isInteger(other) && value === BigInt(other);
  return false;
}

export const fractionSimplificationTask = defineTask<FractionSimplificationConfig>({
  name: DATASET_NAME,
  category: 'arithmetic',
  description: 'Reduce a fraction, written plainly or in LaTeX, to its lowest terms.',
  configSchema: fractionSimplificationConfigSchema,

  generate(config, index): TaskEntry {
    const rng = rngForItem(config.seed, index);
    const { min_value: lo, max_value: hi, min_factor: fLo, max_factor: fHi } = config;

    // RG's _generate_fraction: up to ten tries at a reduced fraction within bounds (a try fails only
    // when dividing by the GCD drops a part below min_value, so only when min_value > 1).
    let parts: [number, number, number, number, number] | null = null;
    for (let attempt = 0; attempt < 10 && parts === null; attempt++) {
      let sNum = rng.randint(lo, hi);
      let sDen = rng.randint(lo, hi);
      const common = gcd2(sNum, sDen);
      sNum = Math.floor(sNum / common);
      sDen = Math.floor(sDen / common);
      if (lo <= sNum && sNum <= hi && lo <= sDen && sDen <= hi) {
        if (sNum > sDen) [sNum, sDen] = [sDen, sNum];
        const factor = rng.randint(fLo, fHi);
        parts = [sNum * factor, sDen * factor, sNum, sDen, factor];
      }
    }
    if (parts === null) {
      // RG's fallback: a fraction that is NOT reduced by the GCD, so the "simplified" answer may still
      // share a factor. Intentionally matched.
      let sNum = rng.randint(lo, hi);
      let sDen = rng.randint(lo, hi);
      if (sNum > sDen) [sNum, sDen] = [sDen, sNum];
      const factor = rng.randint(fLo, fHi);
      parts = [sNum * factor, sDen * factor, sNum, sDen, factor];
    }
    const [num, den, sNum, sDen, factor] = parts;
    const style = config.styles[rng.randint(0, config.styles.length - 1)];

    return {
      question:
        `Reduce ${formatFraction(num, den, style)} to lowest terms. ` +
        'Reply with only the reduced fraction, written as a/b or in LaTeX.',
      answer: formatFraction(sNum, sDen, style),
      metadata: {
        source_dataset: DATASET_NAME,
        source_index: index,
        numerator: num,
        denominator: den,
        simplified_numerator: sNum,
        simplified_denominator: sDen,
        reduction_factor: Math.floor(num / sNum),
        style,
        factor,
        difficulty: {
          value: [config.min_value, config.max_value],
          factor: [config.min_factor, config.max_factor],
        },
      },
    };
  },

  score(answer, entry) {
    // RG's score_answer. Surprising but intentionally matched: anything that does not parse as a
    // fraction (None, '', '3/4.0', prose) scores 0.01, not 0; a parsed fraction with the right numerator
    // or denominator of the *unreduced* fraction scores 0.1; any other parsed fraction scores 0.05.
    // A missing metadata key is a KeyError inside RG's try, hence also 0.01.
    const metadata = (entry.metadata ?? {}) as Record<string, unknown>;
    try {
      const parsed = typeof answer === 'string' ? extractFraction(answer) : null;
      if (parsed === null) return 0.01;
      const [numerator, denominator] = parsed;
      if (
        pyIntEquals(numerator, metadata, 'simplified_numerator') &&
        pyIntEquals(denominator, metadata, 'simplified_denominator')
      ) {
        return 1.0;
      }
      if (pyIntEquals(numerator, metadata, 'numerator') || pyIntEquals(denominator, metadata, 'denominator')) {
        return 0.1;
      }
      // RG then checks len(answer.strip()) > 0 (else 0.01); a parsed fraction is never blank.
      return pyStrip(answer as string).length > 0 ? 0.05 : 0.01;
    } catch {
      return 0.01;
    }
  },
});
