// Colours: a categorical palette for up to ten series (then repeated with dashes/markers by the charts),
// and a perceptually uniform sequential map for heatmaps.

/** Ten categorical colours, chosen to stay distinguishable for common colour-vision deficiencies. */
// Okabe-Ito hues (yellow darkened to read on white), plus grey, brown and purple; black is left for totals.
export const CATEGORICAL = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7f7f7f', '#b8a000', '#8c564b', '#6a3d9a'];

export function seriesColor(i: number): string {
  return CATEGORICAL[((i % CATEGORICAL.length) + CATEGORICAL.length) % CATEGORICAL.length];
}

/** Dash pattern for series beyond the first ten (same colours, different strokes). */
export function seriesDash(i: number): string | undefined {
  const round = Math.floor(i / CATEGORICAL.length);
  return round === 0 ? undefined : round === 1 ? '6 3' : '2 2';
}

// Viridis, sampled at 9 evenly spaced points; interpolated linearly in sRGB.
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

function hexToRgb(h: string): [number, number, number] {
  return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
}

function rgbToHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((v) => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0')).join('')}`;
}

/** Sequential colour for t in [0, 1] (clamped); NaN gives light grey. */
export function sequentialColor(t: number): string {
  if (!Number.isFinite(t)) return '#e0e0e0';
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = hexToRgb(VIRIDIS[i]);
  const b = hexToRgb(VIRIDIS[i + 1]);
  return rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
}

/** Black or white, whichever reads better on `hex` (relative luminance threshold). */
export function textColorOn(hex: string): string {
  const [r, g, b] = hexToRgb(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return lum > 0.25 ? '#000000' : '#ffffff';
}
