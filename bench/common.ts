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

/** Median milliseconds of `repeats` runs after `warmup` runs, with min and max. */
export async function timeIt(fn: () => Promise<unknown> | unknown, repeats: number, warmup = 1): Promise<{ median: number; min: number; max: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1] };
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
