// Shared pieces of the benchmarks: what a section is (a named function returning a table for people and
// records for JSON), the context sections share, and timing helpers. A section file exports `section`.

export interface BenchSection {
  name: string;
  title: string;
  headers: string[];
  rows: (string | number)[][];
  records: Record<string, unknown>[];
  /** Lines printed under the table (formulas, caveats). */
  notes?: string[];
}

export interface BenchContext {
  /** Fewer repetitions and smaller inputs (a smoke run). */
  quick: boolean;
  /** Results of sections that already ran (the extraction section reads the MatMul rate). */
  done: Map<string, BenchSection>;
  /** Progress lines for people (stderr); silent when absent. */
  progress?: (line: string) => void;
}

/**
 * One benchmark section. Adding a benchmark is one new file in bench/ that exports
 * `export const section: BenchSectionDef = { name, order, description, run }`; bench/run.ts finds it.
 */
export interface BenchSectionDef {
  /** What `--only` takes; also the key of the section's records in the JSON. */
  name: string;
  /** Sections run in ascending order (matmul first: later sections compare with its rate). */
  order: number;
  description: string;
  run(ctx: BenchContext): Promise<BenchSection>;
}

export function isSectionDef(value: unknown): value is BenchSectionDef {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<BenchSectionDef>;
  return typeof v.name === 'string' && typeof v.order === 'number' && typeof v.run === 'function';
}

export { timeIt, timingOf, type Timing } from '../src/util/timing.js';

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Rate (units per second) from a count and milliseconds. */
export const perSecond = (count: number, ms: number): number => count / (ms / 1000);
