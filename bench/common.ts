// Shared pieces of the benchmarks: a section's shape (a table for people, records for JSON) and timing.

export interface BenchSection {
  name: string;
  title: string;
  headers: string[];
  rows: (string | number)[][];
  records: Record<string, unknown>[];
}

export interface BenchContext {
  quick: boolean;
  /** Results of sections that already ran (the extraction section reads the MatMul rate). */
  done: Map<string, BenchSection>;
}

export { timeIt } from '../src/util/timing.js';

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
