// What a probe predicts: the class set of one task and how items map onto it. The classes are the N
// most frequent labels among the task's *training* items (the whole answer, or the answer's first
// policy token); items whose label is not among them are dropped from both the training and the
// held-out rows (never relabelled "other"), and the fraction kept is reported. The majority class is
// the most frequent training label; its held-out rate is the base rate a probe must beat.

export const PROBE_TARGETS = ['answer', 'first-token'] as const;
export type ProbeTarget = (typeof PROBE_TARGETS)[number];

export interface ClassSet {
  /** Class labels, most frequent first (ties: the label that sorts first). Index 0 is the majority class. */
  classes: string[];
  /** Training count of each class. */
  counts: number[];
}

/** The top-`topN` labels of the training items by frequency (ties broken by label order, so the set is deterministic). */
export function classSet(trainLabels: readonly string[], topN: number): ClassSet {
  if (!Number.isInteger(topN) || topN < 2) throw new RangeError(`a class set needs at least 2 classes, got ${topN}`);
  const counts = new Map<string, number>();
  for (const l of trainLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, topN);
  return { classes: ranked.map(([l]) => l), counts: ranked.map(([, c]) => c) };
}

export interface EncodedLabels {
  /** Indices (into the given labels) of the items whose label is in the class set. */
  kept: number[];
  /** Class index of each kept item. */
  y: Int32Array;
}

/** Keep the items whose label is a class of `set`; the others are dropped. */
export function encodeLabels(labels: readonly string[], set: ClassSet): EncodedLabels {
  const index = new Map(set.classes.map((c, i) => [c, i]));
  const kept: number[] = [];
  const y: number[] = [];
  labels.forEach((l, i) => {
    const c = index.get(l);
    if (c === undefined) return;
    kept.push(i);
    y.push(c);
  });
  return { kept, y: Int32Array.from(y) };
}

/** Fraction of (kept) held-out items whose class is the training majority class (index 0). */
export function majorityRate(y: Int32Array): number {
  if (y.length === 0) return NaN;
  let hits = 0;
  for (const c of y) if (c === 0) hits++;
  return hits / y.length;
}

/** The label of an answer: itself (trimmed), or the first token the policy's tokenizer gives it. */
export function labelOf(answer: string, target: ProbeTarget, firstToken: (text: string) => string): string {
  const text = answer.trim();
  return target === 'answer' ? text : firstToken(text);
}
