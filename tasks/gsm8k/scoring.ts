// GSM8K scoring with lm-evaluation-harness `gsm8k` semantics (task config `gsm8k.yaml`, version 3.0).
//
// The harness scores a generated completion twice, once per filter pipeline, and reports both:
//   strict-match:     regex `#### (\-?[0-9\.\,]+)`, group_select 0 (first match), then take_first
//   flexible-extract: regex `(-?[$0-9.,]{2,})|(-?[0-9]+)`, group_select -1 (last match), then take_first
// Each filtered string is compared with the reference answer by the `exact_match` metric with
// ignore_case: true, ignore_punctuation: false and
//   regexes_to_ignore: [",", "\$", "(?s).*#### ", "\.$"]
// applied with `re.sub(pattern, "", text)`, in that order, to BOTH the prediction and the reference.
// The reference is the dataset's full `answer` text (`doc_to_target: "{{answer}}"`), so the
// `(?s).*#### ` rule is what cuts the worked solution away and leaves the final number.
//
// Python -> JavaScript regex notes (the patterns below are hand translations, checked one by one):
//   - `\-`, `\.`, `\,` outside/inside classes are identity escapes in both; the JS patterns are
//     compiled WITHOUT the `u` flag, where those escapes stay legal, but are written without them.
//   - `(?s)` (DOTALL) becomes the JS `s` flag: `.` then matches every character in both engines.
//   - Python's `$` (no MULTILINE) matches at the very end OR just before one final "\n"; JS's `$`
//     (no `m` flag) only at the very end. So `\.$` becomes `\.(?=\n?$)`.
//   - `re.findall` with several groups returns tuples ("" for a group that did not take part);
//     with exactly one group it returns that group's text. `findallPy` reproduces both shapes.
//   - None of the patterns can match the empty string, so re.sub / findall empty-match rules
//     (where Python and JS differ) never come into play.
// numpy quirk ported too: `exact_match` stores the strings in numpy `<U` arrays after every re.sub,
// and numpy's fixed-width unicode dtype silently drops trailing NUL characters.

import { pyStrip } from '../common/pystr.js';

/** The harness `RegexFilter` fallback, returned when the pattern finds nothing. */
export const GSM8K_INVALID = '[invalid]';

/** `generation_kwargs.until` of the harness `gsm8k` task (the harness also adds the model's EOS). */
export const GSM8K_STOP_SEQUENCES: readonly string[] = Object.freeze(['Question:', '</s>', '<|im_end|>']);

/** strict-match: Python `#### (\-?[0-9\.\,]+)`. */
export const GSM8K_STRICT_PATTERN = /#### (-?[0-9.,]+)/g;

/** flexible-extract: Python `(-?[$0-9.,]{2,})|(-?[0-9]+)`. */
export const GSM8K_FLEXIBLE_PATTERN = /(-?[$0-9.,]{2,})|(-?[0-9]+)/g;

/** `regexes_to_ignore` of the harness config: the Python source and its JS translation, in order. */
export const GSM8K_REGEXES_TO_IGNORE: ReadonlyArray<{ python: string; js: RegExp }> = Object.freeze([
  { python: ',', js: /,/g },
  { python: '\\$', js: /\$/g },
  { python: '(?s).*#### ', js: /.*#### /gs },
  { python: '\\.$', js: /\.(?=\n?$)/g },
]);

/** One element of Python `re.findall`: a string (0 or 1 groups) or a tuple of group strings. */
type FindallItem = string | string[];

/** Python `re.findall(pattern, text)` for a global JS regex (which must not match empty strings). */
function findallPy(pattern: RegExp, text: string): FindallItem[] {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
  const out: FindallItem[] = [];
  for (const m of text.matchAll(re)) {
    const groups = m.slice(1).map((g) => g ?? '');
    if (groups.length === 0) out.push(m[0]);
    else if (groups.length === 1) out.push(groups[0]);
    else out.push(groups);
  }
  return out;
}

/**
 * The harness `RegexFilter` on one response: `findall`, pick `matches[groupSelect]` (Python
 * indexing, negatives from the end), for a tuple keep the first non-empty group (or the fallback if
 * all are empty), then `.strip()`. No match at all gives the fallback. A non-string response is
 * treated as "" (as the harness does), so it also gives the fallback.
 */
export function harnessRegexFilter(
  response: string | null | undefined,
  pattern: RegExp,
  groupSelect = 0,
  fallback = GSM8K_INVALID,
): string {
  const text = typeof response === 'string' ? response : '';
  const matches = findallPy(pattern, text);
  if (matches.length === 0) return fallback;
  const index = groupSelect < 0 ? matches.length + groupSelect : groupSelect;
  if (index < 0 || index >= matches.length) {
    // Python raises IndexError here; the gsm8k config (0 and -1) can never get here.
    throw new RangeError(`group_select ${groupSelect} is out of range for ${matches.length} match(es)`);
  }
  let match = matches[index];
  if (Array.isArray(match)) {
    const nonEmpty = match.filter((g) => g !== '');
    match = nonEmpty.length > 0 ? nonEmpty[0] : fallback;
  }
  return pyStrip(match);
}

/** numpy `<U` arrays drop trailing NUL characters when a Python str is stored in them. */
function numpyUnicodeStore(s: string): string {
  return s.replace(/\0+$/, '');
}

/**
 * The harness `exact_match` metric for one (prediction, reference) pair with the gsm8k settings:
 * each `regexes_to_ignore` rule removed from both strings in order, then both lower-cased
 * (`ignore_case`), then compared for equality. Returns 1 or 0.
 * Lower-casing uses `toLowerCase`, which agrees with Python's `str.lower` on everything a filtered
 * GSM8K prediction can contain (digits, `.,$-` and the fallback text).
 */
export function gsm8kExactMatch(prediction: string, reference: string): number {
  let p = prediction;
  let r = reference;
  for (const { js } of GSM8K_REGEXES_TO_IGNORE) {
    p = numpyUnicodeStore(p.replace(js, ''));
    r = numpyUnicodeStore(r.replace(js, ''));
  }
  return p.toLowerCase() === r.toLowerCase() ? 1 : 0;
}

export interface Gsm8kScore {
  /** exact_match after the strict-match filter (0 or 1). */
  strict: number;
  /** exact_match after the flexible-extract filter (0 or 1). */
  flexible: number;
  /** What strict-match extracted (`[invalid]` when nothing matched), before exact_match normalisation. */
  strictExtracted: string;
  /** What flexible-extract extracted (`[invalid]` when nothing matched), before normalisation. */
  flexibleExtracted: string;
}

/**
 * Score a full model completion against a GSM8K reference answer, both harness filters.
 * `referenceAnswer` should be the dataset's full answer text (`...#### N`); a bare number also
 * works, because `(?s).*#### ` simply does not match it. The completion is used as given: cut it at
 * stop sequences first (see `truncateAtStops`) if the generator did not.
 */
export function scoreGsm8k(completion: string | null | undefined, referenceAnswer: string): Gsm8kScore {
  const strictExtracted = harnessRegexFilter(completion, GSM8K_STRICT_PATTERN, 0);
  const flexibleExtracted = harnessRegexFilter(completion, GSM8K_FLEXIBLE_PATTERN, -1);
  return {
    strict: gsm8kExactMatch(strictExtracted, referenceAnswer),
    flexible: gsm8kExactMatch(flexibleExtracted, referenceAnswer),
    strictExtracted,
    flexibleExtracted,
  };
}

/**
 * The final answer of a GSM8K reference: the text after the last `#### ` (as the harness's greedy
 * `(?s).*#### ` finds it), commas removed, surrounding whitespace stripped. Null when the text has
 * no `#### ` marker. This is the `answer` field of loaded entries; scoring itself uses the full text.
 */
export function gsm8kTargetNumber(answer: string): string | null {
  const at = answer.lastIndexOf('#### ');
  if (at < 0) return null;
  return pyStrip(answer.slice(at + '#### '.length).replace(/,/g, ''));
}

/**
 * Cut generated text at the first occurrence of any stop sequence, as the harness does after
 * generation (`for term in until: text = text.split(term)[0]`, empty terms skipped). The defaults
 * are the gsm8k task's `until` list; callers that generate should also pass the tokenizer's EOS
 * text, which the harness appends to the list. Scoring functions never call this themselves.
 */
export function truncateAtStops(text: string, stops: readonly string[] = GSM8K_STOP_SEQUENCES): string {
  let out = text;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const at = out.indexOf(stop);
    if (at >= 0) out = out.slice(0, at);
  }
  return out;
}
