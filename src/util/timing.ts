// Wall-clock timing for benchmarks: median, min and max of repeated runs after warm-up runs.

export interface Timing {
  median: number;
  min: number;
  max: number;
}

/** Milliseconds of `repeats` runs of `fn` after `warmup` untimed runs. */
export async function timeIt(fn: () => Promise<unknown> | unknown, repeats: number, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return timingOf(times);
}

/** Median, min and max of measured values (any unit). */
export function timingOf(values: readonly number[]): Timing {
  if (values.length === 0) throw new Error('timingOf: no values');
  const s = [...values].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}
