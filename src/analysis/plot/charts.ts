// Chart kinds as SVG strings: line chart (with optional shaded bands), stacked area, scatter, heatmap with a
// colour bar, and a grid of panels. Layout (margins, legend, tick density) is computed from estimated text
// widths so labels do not collide; every chart is a complete SVG document with a white background.

import { CATEGORICAL, sequentialColor, seriesColor, seriesDash, textColorOn } from './palette.js';
import { formatTick, linearScale, niceDomain, niceTicks, type Ticks } from './scale.js';
import { el, fitText, linePath, num, svgDocument, text, textWidth, type Figure } from './svg.js';

export type { Figure } from './svg.js';

const TICK_SIZE = 12;
const LABEL_SIZE = 13;
const TITLE_SIZE = 15;
const LEGEND_SIZE = 12;
const LEGEND_ROW = 18;
const LEGEND_LABEL_MAX = 230;
const AXIS_COLOR = '#333333';
const GRID_COLOR = '#e6e6e6';

let clipCounter = 0;

export interface AxesOptions {
  title?: string;
  /** Smaller second title line (e.g. seeds, smoothing). */
  subtitle?: string;
  xLabel?: string;
  yLabel?: string;
  /** Total size in px; grown when the legend or labels need room. Default 680 × 420. */
  width?: number;
  height?: number;
  /** Fixed domains; default: x the data extent, y the data extent expanded to nice ticks. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Only integer x ticks (training steps). */
  xInteger?: boolean;
  /** Legend to the right of the plot (default when there is more than one entry), or none. */
  legend?: 'right' | 'none';
  legendTitle?: string;
}

export type MarkerShape = 'circle' | 'square' | 'triangle';

interface LegendEntry {
  label: string;
  color: string;
  kind: 'line' | 'area' | 'marker';
  dash?: string;
  marker?: MarkerShape;
}

function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

function marker(shape: MarkerShape, x: number, y: number, r: number, color: string, opacity = 1): string {
  const common = { fill: color, 'fill-opacity': opacity < 1 ? opacity : undefined, stroke: '#ffffff', 'stroke-width': 0.6 };
  if (shape === 'square') return el('rect', { x: x - r * 0.9, y: y - r * 0.9, width: r * 1.8, height: r * 1.8, ...common });
  if (shape === 'triangle') return el('path', { d: `M${num(x)} ${num(y - r * 1.15)}L${num(x + r)} ${num(y + r * 0.75)}L${num(x - r)} ${num(y + r * 0.75)}Z`, ...common });
  return el('circle', { cx: x, cy: y, r, ...common });
}

function markerShape(i: number): MarkerShape {
  return (['circle', 'square', 'triangle'] as const)[Math.floor(i / CATEGORICAL.length) % 3];
}

function legendWidth(entries: LegendEntry[], title?: string): number {
  if (entries.length === 0) return 0;
  const labels = entries.map((e) => Math.min(LEGEND_LABEL_MAX, textWidth(e.label, LEGEND_SIZE)));
  const t = title ? textWidth(title, LEGEND_SIZE) : 0;
  return Math.max(t, 30 + Math.max(...labels)) + 8;
}

function drawLegend(entries: LegendEntry[], x: number, y: number, title?: string): string {
  const parts: string[] = [];
  let cy = y;
  if (title) {
    parts.push(text(x, cy, title, { size: LEGEND_SIZE, weight: 'bold', baseline: 'middle' }));
    cy += LEGEND_ROW;
  }
  for (const e of entries) {
    if (e.kind === 'line') parts.push(el('line', { x1: x, y1: cy, x2: x + 22, y2: cy, stroke: e.color, 'stroke-width': 2.2, 'stroke-dasharray': e.dash }));
    else if (e.kind === 'area') parts.push(el('rect', { x, y: cy - 6, width: 22, height: 12, fill: e.color, 'fill-opacity': 0.85 }));
    else parts.push(marker(e.marker ?? 'circle', x + 11, cy, 4.5, e.color));
    parts.push(text(x + 30, cy, fitText(e.label, LEGEND_SIZE, LEGEND_LABEL_MAX), { size: LEGEND_SIZE, baseline: 'middle' }));
    cy += LEGEND_ROW;
  }
  return el('g', {}, parts.join(''));
}

function legendHeight(entries: LegendEntry[], title?: string): number {
  return (entries.length + (title ? 1 : 0)) * LEGEND_ROW;
}

interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
  sx: (v: number) => number;
  sy: (v: number) => number;
  clipId: string;
}

function integerTicks(lo: number, hi: number, target: number): Ticks {
  const t = niceTicks(lo, hi, target);
  if (t.step >= 1) return t;
  const values: number[] = [];
  for (let v = Math.ceil(lo); v <= Math.floor(hi); v++) values.push(v);
  return { values, step: 1, decimals: 0 };
}

/**
 * Shared layout for x/y charts: computes margins from tick labels, axis labels, title and legend, draws
 * grid, axes, ticks, labels and legend, and calls `body` to draw the data inside a clip path.
 */
function cartesian(
  opts: AxesOptions,
  xExt: [number, number],
  yExt: [number, number],
  legend: LegendEntry[],
  body: (area: PlotArea) => string,
): Figure {
  // y: expand to nice ticks unless fixed.
  const yFixed = opts.yDomain;
  const yn = yFixed ? { domain: yFixed, ticks: niceTicks(yFixed[0], yFixed[1], 5) } : niceDomain(yExt[0], yExt[1], 5);
  const yDomain = yn.domain;
  const yTicks = yn.ticks;
  // x: data extent (steps start where they start), ticks inside it.
  let xDomain: [number, number] = opts.xDomain ?? (Number.isFinite(xExt[0]) ? xExt : [0, 1]);
  if (xDomain[0] === xDomain[1]) xDomain = [xDomain[0] - 1, xDomain[1] + 1];

  const yLabels = yTicks.values.map((v) => formatTick(v, yTicks.decimals));
  const yTickW = Math.max(0, ...yLabels.map((s) => textWidth(s, TICK_SIZE)));
  const showLegend = opts.legend !== 'none' && legend.length > 0;
  const legW = showLegend ? legendWidth(legend, opts.legendTitle) : 0;

  const left = 14 + (opts.yLabel ? LABEL_SIZE + 10 : 0) + yTickW + 9;
  const top = (opts.title ? 14 + TITLE_SIZE + (opts.subtitle ? 18 : 0) + 10 : 16) + 4;
  const bottom = 9 + TICK_SIZE + 8 + (opts.xLabel ? LABEL_SIZE + 8 : 0) + 6;
  const right = showLegend ? legW + 28 : 24;
  const minPlotH = showLegend ? legendHeight(legend, opts.legendTitle) : 0;
  const width = Math.max(opts.width ?? 680, left + right + 300);
  const height = Math.max(opts.height ?? 420, top + bottom + Math.max(200, minPlotH));
  const pw = width - left - right;
  const ph = height - top - bottom;

  // x ticks: as many as fit without their labels touching.
  let target = 8;
  let xTicks: Ticks = { values: [], step: 1, decimals: 0 };
  for (; target >= 2; target--) {
    xTicks = opts.xInteger ? integerTicks(xDomain[0], xDomain[1], target) : niceTicks(xDomain[0], xDomain[1], target);
    const widest = Math.max(0, ...xTicks.values.map((v) => textWidth(formatTick(v, xTicks.decimals), TICK_SIZE)));
    if (xTicks.values.length <= 1 || (pw / (xTicks.values.length - 1 || 1)) > widest + 14) break;
  }

  const sx = linearScale(xDomain, [left, left + pw]);
  const sy = linearScale(yDomain, [top + ph, top]);
  const clipId = `clip${++clipCounter}`;
  const parts: string[] = [];
  parts.push(el('defs', {}, el('clipPath', { id: clipId }, el('rect', { x: left - 6, y: top - 6, width: pw + 12, height: ph + 12 }))));
  // Grid. The clip leaves a few pixels around the plot so lines and markers on the domain edge stay whole.
  const grid: string[] = [];
  for (const v of yTicks.values) grid.push(el('line', { x1: left, x2: left + pw, y1: sy(v), y2: sy(v), stroke: GRID_COLOR, 'stroke-width': 1 }));
  for (const v of xTicks.values) grid.push(el('line', { x1: sx(v), x2: sx(v), y1: top, y2: top + ph, stroke: GRID_COLOR, 'stroke-width': 1 }));
  parts.push(el('g', {}, grid.join('')));
  parts.push(el('g', { 'clip-path': `url(#${clipId})` }, body({ left, top, width: pw, height: ph, sx, sy, clipId })));
  // Axes and ticks.
  const axes: string[] = [];
  axes.push(el('line', { x1: left, x2: left, y1: top, y2: top + ph, stroke: AXIS_COLOR, 'stroke-width': 1 }));
  axes.push(el('line', { x1: left, x2: left + pw, y1: top + ph, y2: top + ph, stroke: AXIS_COLOR, 'stroke-width': 1 }));
  yTicks.values.forEach((v, i) => {
    axes.push(el('line', { x1: left - 5, x2: left, y1: sy(v), y2: sy(v), stroke: AXIS_COLOR }));
    axes.push(text(left - 8, sy(v), yLabels[i], { size: TICK_SIZE, anchor: 'end', baseline: 'middle', fill: AXIS_COLOR }));
  });
  for (const v of xTicks.values) {
    axes.push(el('line', { x1: sx(v), x2: sx(v), y1: top + ph, y2: top + ph + 5, stroke: AXIS_COLOR }));
    axes.push(text(sx(v), top + ph + 9, formatTick(v, xTicks.decimals), { size: TICK_SIZE, anchor: 'middle', baseline: 'hanging', fill: AXIS_COLOR }));
  }
  if (opts.xLabel) axes.push(text(left + pw / 2, height - 10, opts.xLabel, { size: LABEL_SIZE, anchor: 'middle' }));
  if (opts.yLabel) axes.push(text(14 + LABEL_SIZE * 0.8, top + ph / 2, fitText(opts.yLabel, LABEL_SIZE, ph), { size: LABEL_SIZE, anchor: 'middle', rotate: -90 }));
  parts.push(el('g', {}, axes.join('')));
  parts.push(titleBlock(opts.title, opts.subtitle, width));
  if (showLegend) parts.push(drawLegend(legend, left + pw + 20, top + 8, opts.legendTitle));
  return { svg: svgDocument(width, height, parts.join('\n')), width, height };
}

function titleBlock(title: string | undefined, subtitle: string | undefined, width: number): string {
  if (!title) return '';
  let s = text(width / 2, 14 + TITLE_SIZE * 0.8, fitText(title, TITLE_SIZE, width - 20), { size: TITLE_SIZE, anchor: 'middle', weight: 'bold' });
  if (subtitle) s += text(width / 2, 14 + TITLE_SIZE + 14, fitText(subtitle, 12, width - 20), { size: 12, anchor: 'middle', fill: '#555555' });
  return s;
}

// ───────────────────────── line chart ─────────────────────────

export interface LineSeries {
  label: string;
  x: readonly number[];
  y: readonly number[];
  /** Shaded band (e.g. mean ± std over seeds), same length as x. */
  lower?: readonly number[];
  upper?: readonly number[];
  /** Default: the palette colour of the series' position among legend series. */
  color?: string;
  dash?: string;
  strokeWidth?: number;
  opacity?: number;
  /** Draw a marker at every point (sparse series such as evaluations). */
  markers?: boolean;
  /** Default true; false for context lines (e.g. the raw curve behind a smoothed one). */
  showInLegend?: boolean;
}

function bandPath(xs: readonly number[], lo: readonly number[], hi: readonly number[], sx: (v: number) => number, sy: (v: number) => number): string {
  // One closed polygon per run of finite points.
  let d = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length >= 2) {
      d += run.map((i, k) => `${k === 0 ? 'M' : 'L'}${num(sx(xs[i]))} ${num(sy(hi[i]))}`).join('');
      d += [...run].reverse().map((i) => `L${num(sx(xs[i]))} ${num(sy(lo[i]))}`).join('') + 'Z';
    }
    run = [];
  };
  for (let i = 0; i < xs.length; i++) {
    if (Number.isFinite(xs[i]) && Number.isFinite(lo[i]) && Number.isFinite(hi[i])) run.push(i);
    else flush();
  }
  flush();
  return d;
}

/** Several series over a shared x axis, each optionally with a shaded band. */
export function lineChart(series: readonly LineSeries[], opts: AxesOptions = {}): Figure {
  let legendIndex = 0;
  const styled = series.map((s) => {
    const inLegend = s.showInLegend !== false;
    const idx = inLegend ? legendIndex++ : Math.max(0, legendIndex - 1);
    return { ...s, color: s.color ?? seriesColor(idx), dash: s.dash ?? (s.color ? undefined : seriesDash(idx)), inLegend };
  });
  const xs = extent(series.flatMap((s) => [...s.x]));
  const ys = extent(series.flatMap((s) => [...s.y, ...(s.lower ?? []), ...(s.upper ?? [])]));
  const legend: LegendEntry[] = styled.filter((s) => s.inLegend).map((s) => ({ label: s.label, color: s.color, kind: 'line', dash: s.dash }));
  return cartesian(opts, xs, ys, opts.legend === undefined && legend.length <= 1 ? [] : legend, ({ sx, sy }) => {
    const parts: string[] = [];
    for (const s of styled) {
      if (s.lower && s.upper) {
        const d = bandPath(s.x, s.lower, s.upper, sx, sy);
        if (d) parts.push(el('path', { d, fill: s.color, 'fill-opacity': 0.18, stroke: 'none' }));
      }
    }
    for (const s of styled) {
      const d = linePath(s.x.map(sx), s.y.map(sy));
      if (d) {
        parts.push(
          el('path', {
            d,
            fill: 'none',
            stroke: s.color,
            'stroke-width': s.strokeWidth ?? 2,
            'stroke-opacity': s.opacity,
            'stroke-dasharray': s.dash,
            'stroke-linejoin': 'round',
            'stroke-linecap': 'round',
          }),
        );
      }
      if (s.markers) {
        s.x.forEach((x, i) => {
          if (Number.isFinite(x) && Number.isFinite(s.y[i])) parts.push(marker('circle', sx(x), sy(s.y[i]), 3.5, s.color, s.opacity ?? 1));
        });
      }
    }
    return parts.join('');
  });
}

// ───────────────────────── stacked area ─────────────────────────

export interface AreaSeries {
  label: string;
  /** Values at the chart's x positions; non-finite values count as 0. */
  y: readonly number[];
  color?: string;
}

/** Series stacked on top of each other over a shared x (e.g. attention mass per expert summing to 1). */
export function stackedAreaChart(x: readonly number[], series: readonly AreaSeries[], opts: AxesOptions = {}): Figure {
  const n = x.length;
  const cum: number[][] = [];
  let prev = new Array<number>(n).fill(0);
  for (const s of series) {
    if (s.y.length !== n) throw new RangeError(`stackedAreaChart: series '${s.label}' has ${s.y.length} values for ${n} x positions`);
    const next = prev.map((p, i) => p + (Number.isFinite(s.y[i]) ? s.y[i] : 0));
    cum.push(next);
    prev = next;
  }
  const colors = series.map((s, i) => s.color ?? seriesColor(i));
  const legend: LegendEntry[] = series.map((s, i) => ({ label: s.label, color: colors[i], kind: 'area' as const })).reverse();
  const yTop = extent(cum.length ? cum[cum.length - 1] : [0]);
  return cartesian({ legend: 'right', ...opts }, extent(x), [0, yTop[1]], legend, ({ sx, sy }) => {
    const parts: string[] = [];
    for (let k = 0; k < series.length; k++) {
      const upper = cum[k];
      const lower = k === 0 ? new Array<number>(n).fill(0) : cum[k - 1];
      if (n === 0) continue;
      let d = x.map((xv, i) => `${i === 0 ? 'M' : 'L'}${num(sx(xv))} ${num(sy(upper[i]))}`).join('');
      for (let i = n - 1; i >= 0; i--) d += `L${num(sx(x[i]))} ${num(sy(lower[i]))}`;
      parts.push(el('path', { d: `${d}Z`, fill: colors[k], 'fill-opacity': 0.85, stroke: '#ffffff', 'stroke-width': 0.5 }));
    }
    return parts.join('');
  });
}

// ───────────────────────── scatter ─────────────────────────

export interface ScatterGroup {
  label: string;
  x: readonly number[];
  y: readonly number[];
  color?: string;
}

export interface ScatterOptions extends AxesOptions {
  markerRadius?: number;
  /** Least-squares line per group (dashed), drawn over the group's x range. */
  trendLines?: boolean;
}

/** Points, coloured (and, beyond ten groups, shaped) per group. */
export function scatterChart(groups: readonly ScatterGroup[], opts: ScatterOptions = {}): Figure {
  const colors = groups.map((g, i) => g.color ?? seriesColor(i));
  const shapes = groups.map((_, i) => markerShape(i));
  const legend: LegendEntry[] = groups.map((g, i) => ({ label: g.label, color: colors[i], kind: 'marker' as const, marker: shapes[i] }));
  const xs = extent(groups.flatMap((g) => [...g.x]));
  const ys = extent(groups.flatMap((g) => [...g.y]));
  // Pad the x domain a little so points do not sit on the axis.
  const pad = (xs[1] - xs[0]) * 0.03 || 0.5;
  const xDomain = opts.xDomain ?? (Number.isFinite(xs[0]) ? ([xs[0] - pad, xs[1] + pad] as [number, number]) : undefined);
  return cartesian({ ...opts, xDomain }, xs, ys, opts.legend === undefined && groups.length <= 1 ? [] : legend, ({ sx, sy }) => {
    const parts: string[] = [];
    const r = opts.markerRadius ?? 3.2;
    groups.forEach((g, k) => {
      for (let i = 0; i < g.x.length; i++) {
        if (Number.isFinite(g.x[i]) && Number.isFinite(g.y[i])) parts.push(marker(shapes[k], sx(g.x[i]), sy(g.y[i]), r, colors[k], 0.75));
      }
      if (opts.trendLines) {
        const pts = g.x.map((x, i) => [x, g.y[i]] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
        if (pts.length >= 2) {
          const mx = pts.reduce((s, p) => s + p[0], 0) / pts.length;
          const my = pts.reduce((s, p) => s + p[1], 0) / pts.length;
          const sxx = pts.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
          if (sxx > 0) {
            const slope = pts.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
            const [x0, x1] = extent(pts.map((p) => p[0]));
            parts.push(el('line', { x1: sx(x0), y1: sy(my + slope * (x0 - mx)), x2: sx(x1), y2: sy(my + slope * (x1 - mx)), stroke: colors[k], 'stroke-width': 1.6, 'stroke-dasharray': '5 3' }));
          }
        }
      }
    });
    return parts.join('');
  });
}

// ───────────────────────── heatmap ─────────────────────────

export interface HeatmapOptions {
  title?: string;
  subtitle?: string;
  xLabel?: string;
  yLabel?: string;
  /** Colour bar label. */
  colorLabel?: string;
  /** Colour domain; default the finite data range (or [0, 1] when all values lie in it). */
  domain?: [number, number];
  /** Write the value in each cell (default: when cells are large enough). */
  annotate?: boolean;
  decimals?: number;
  cellWidth?: number;
  cellHeight?: number;
}

/** values[r][c] coloured on a sequential scale, row labels on the left, column labels below, colour bar right. */
export function heatmap(rows: readonly string[], columns: readonly string[], values: readonly (readonly number[])[], opts: HeatmapOptions = {}): Figure {
  if (values.length !== rows.length || values.some((r) => r.length !== columns.length)) {
    throw new RangeError(`heatmap: values must be ${rows.length} x ${columns.length}`);
  }
  const flat = values.flat().filter((v) => Number.isFinite(v));
  const [lo, hi] = extent(flat);
  const domain: [number, number] = opts.domain ?? (lo >= 0 && hi <= 1 ? [0, Math.max(hi, 1e-12) > 0.5 ? 1 : niceDomain(0, hi, 4).domain[1]] : Number.isFinite(lo) ? niceDomain(lo, hi, 4).domain : [0, 1]);
  const cellW = opts.cellWidth ?? Math.max(34, Math.min(90, 560 / Math.max(1, columns.length)));
  const cellH = opts.cellHeight ?? Math.max(20, Math.min(40, 340 / Math.max(1, rows.length)));
  const decimals = opts.decimals ?? 2;
  const annotate = opts.annotate ?? (cellW >= 34 && cellH >= 16);

  const rowLabels = rows.map((r) => fitText(r, TICK_SIZE, 200));
  const rowLabelW = Math.max(0, ...rowLabels.map((r) => textWidth(r, TICK_SIZE)));
  const colLabels = columns.map((c) => fitText(c, TICK_SIZE, 160));
  const colLabelW = Math.max(0, ...colLabels.map((c) => textWidth(c, TICK_SIZE)));
  const rotate = colLabelW > cellW - 6;
  const angle = 40;
  const colLabelH = rotate ? colLabelW * Math.sin((angle * Math.PI) / 180) + TICK_SIZE : TICK_SIZE + 4;

  const left = 14 + (opts.yLabel ? LABEL_SIZE + 10 : 0) + rowLabelW + 8;
  const top = (opts.title ? 14 + TITLE_SIZE + (opts.subtitle ? 18 : 0) + 12 : 16) + 4;
  const gridW = cellW * columns.length;
  const gridH = cellH * rows.length;
  const barH = Math.max(gridH, 120);
  const cbTicks = niceTicks(domain[0], domain[1], 5);
  const cbLabelW = Math.max(0, ...cbTicks.values.map((v) => textWidth(formatTick(v, cbTicks.decimals), TICK_SIZE)));
  const right = 24 + 14 + 8 + cbLabelW + (opts.colorLabel ? LABEL_SIZE + 14 : 0) + 12;
  // Rotated column labels lean left; make sure the first one fits.
  const leftNeeded = rotate ? Math.max(left, colLabelW * Math.cos((angle * Math.PI) / 180) - cellW / 2 + 10) : left;
  const bottom = 8 + colLabelH + (opts.xLabel ? LABEL_SIZE + 12 : 0) + 8;
  const titleW = opts.title ? textWidth(opts.title, TITLE_SIZE) + 30 : 0;
  const width = Math.max(leftNeeded + gridW + right, titleW);
  const height = top + Math.max(gridH, barH) + bottom;
  const x0 = leftNeeded;

  const parts: string[] = [];
  const t = (v: number) => (domain[1] === domain[0] ? 0.5 : (v - domain[0]) / (domain[1] - domain[0]));
  values.forEach((row, r) => {
    row.forEach((v, c) => {
      const fill = sequentialColor(t(v));
      const x = x0 + c * cellW;
      const y = top + r * cellH;
      parts.push(el('rect', { x, y, width: cellW, height: cellH, fill, stroke: '#ffffff', 'stroke-width': 1 }));
      if (annotate) {
        const label = Number.isFinite(v) ? formatTick(v, decimals) : '–';
        const size = Math.min(11, cellH * 0.55);
        if (textWidth(label, size) < cellW - 4) parts.push(text(x + cellW / 2, y + cellH / 2, label, { size, anchor: 'middle', baseline: 'middle', fill: textColorOn(fill) }));
      }
    });
  });
  rowLabels.forEach((label, r) => parts.push(text(x0 - 8, top + (r + 0.5) * cellH, label, { size: TICK_SIZE, anchor: 'end', baseline: 'middle' })));
  colLabels.forEach((label, c) => {
    const cx = x0 + (c + 0.5) * cellW;
    const cy = top + gridH + 8;
    if (rotate) parts.push(text(cx, cy + TICK_SIZE * 0.7, label, { size: TICK_SIZE, anchor: 'end', rotate: -angle }));
    else parts.push(text(cx, cy, label, { size: TICK_SIZE, anchor: 'middle', baseline: 'hanging' }));
  });
  if (opts.xLabel) parts.push(text(x0 + gridW / 2, height - 12, opts.xLabel, { size: LABEL_SIZE, anchor: 'middle' }));
  if (opts.yLabel) parts.push(text(14 + LABEL_SIZE * 0.8, top + gridH / 2, fitText(opts.yLabel, LABEL_SIZE, Math.max(gridH, 60)), { size: LABEL_SIZE, anchor: 'middle', rotate: -90 }));

  // Colour bar: a vertical stack of thin slices (no gradients: every renderer draws rects the same way).
  const bx = x0 + gridW + 24;
  const by = top;
  const slices = 64;
  for (let i = 0; i < slices; i++) {
    const y = by + (barH * i) / slices;
    parts.push(el('rect', { x: bx, y, width: 14, height: barH / slices + 0.6, fill: sequentialColor(1 - (i + 0.5) / slices) }));
  }
  parts.push(el('rect', { x: bx, y: by, width: 14, height: barH, fill: 'none', stroke: AXIS_COLOR, 'stroke-width': 0.8 }));
  const cy = linearScale(domain, [by + barH, by]);
  for (const v of cbTicks.values) {
    parts.push(el('line', { x1: bx + 14, x2: bx + 18, y1: cy(v), y2: cy(v), stroke: AXIS_COLOR }));
    parts.push(text(bx + 21, cy(v), formatTick(v, cbTicks.decimals), { size: TICK_SIZE, baseline: 'middle' }));
  }
  if (opts.colorLabel) parts.push(text(bx + 21 + cbLabelW + 14, by + barH / 2, opts.colorLabel, { size: LABEL_SIZE, anchor: 'middle', rotate: 90 }));
  parts.push(titleBlock(opts.title, opts.subtitle, width));
  return { svg: svgDocument(width, height, parts.join('\n')), width, height };
}

// ───────────────────────── grid of panels ─────────────────────────

export interface GridOptions {
  /** Panels per row (default: up to 3). */
  columns?: number;
  title?: string;
}

/** Panels (complete figures) laid out in a grid, each in a nested <svg>; one title over all. */
export function gridFigure(panels: readonly Figure[], opts: GridOptions = {}): Figure {
  const cols = Math.max(1, Math.min(opts.columns ?? 3, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const cw = Math.max(0, ...panels.map((p) => p.width));
  const ch = Math.max(0, ...panels.map((p) => p.height));
  const top = opts.title ? 14 + TITLE_SIZE + 10 : 0;
  const width = cols * cw;
  const height = top + rows * ch;
  const parts: string[] = [];
  panels.forEach((p, i) => {
    const x = (i % cols) * cw;
    const y = top + Math.floor(i / cols) * ch;
    parts.push(p.svg.trim().replace(/^<svg /, `<svg x="${num(x)}" y="${num(y)}" `));
  });
  if (opts.title) parts.push(text(width / 2, 14 + TITLE_SIZE * 0.8, opts.title, { size: TITLE_SIZE + 1, anchor: 'middle', weight: 'bold' }));
  return { svg: svgDocument(width, height, parts.join('\n')), width, height };
}


