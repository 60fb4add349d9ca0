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
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1] };
}
