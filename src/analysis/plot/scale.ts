// Axis scales: "nice" ticks (1, 2, 2.5, 5 × 10^k), domains padded to them, tick label formatting.

export interface Ticks {
  values: number[];
  step: number;
  /** Decimals needed to tell the ticks apart. */
  decimals: number;
}

function niceStep(rough: number): number {
  const exp = Math.floor(Math.log10(rough));
  const base = 10 ** exp;
  const f = rough / base;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * base;
}

function decimalsOf(step: number): number {
  // Smallest number of decimals that represents the step exactly (2.5 -> 1, 0.25 -> 2, 200 -> 0).
  for (let d = 0; d <= 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) return d;
  return 12;
}

/** About `target` ticks covering [min, max] (inclusive where a tick falls on an end). */
export function niceTicks(min: number, max: number, target = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { values: [], step: 1, decimals: 0 };
  if (max < min) [min, max] = [max, min];
  // A range below float resolution (e.g. one value read twice with rounding) is one value: without this,
  // min / step is ~1e16 and `i++` no longer moves i, so the loop below would never end.
  if (max - min <= Math.max(Math.abs(min), Math.abs(max)) * 1e-9) {
    max = min;
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep((max - min) / Math.max(1, target));
  const decimals = decimalsOf(step);
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(Number((i * step).toFixed(decimals)));
  return { values, step, decimals };
}

/** Expand [min, max] outwards to the nearest nice ticks; degenerate ranges get padding. */
export function niceDomain(min: number, max: number, target = 5): { domain: [number, number]; ticks: Ticks } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return niceDomain(0, 1, target);
  if (max < min) [min, max] = [max, min];
  if (max - min <= Math.max(Math.abs(min), Math.abs(max)) * 1e-9) {
    max = min;
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const { step, decimals } = niceTicks(min, max, target);
  const lo = Number((Math.floor(min / step + 1e-9) * step).toFixed(decimals));
  const hi = Number((Math.ceil(max / step - 1e-9) * step).toFixed(decimals));
  return { domain: [lo, hi], ticks: niceTicks(lo, hi, target) };
}

/** Tick label: fixed decimals, true minus sign, thousands as "k" for large round values. */
export function formatTick(v: number, decimals: number): string {
  if (Math.abs(v) >= 1e6) return v.toExponential(1).replace('-', '−');
  if (Math.abs(v) >= 1e4 && decimals === 0 && v % 1000 === 0) return `${v / 1000}k`.replace('-', '−');
  const s = v.toFixed(decimals);
  return s.startsWith('-') ? (Number(s) === 0 ? s.slice(1) : `−${s.slice(1)}`) : s;
}

/** Linear map from a data domain to a pixel range. */
export function linearScale(domain: [number, number], range: [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}
