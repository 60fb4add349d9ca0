// The plotting library: SVG charts and their PNG rendering.

export { gridFigure, heatmap, lineChart, scatterChart, stackedAreaChart } from './charts.js';
export type { AreaSeries, AxesOptions, GridOptions, HeatmapOptions, LineSeries, ScatterGroup, ScatterOptions } from './charts.js';
export { CATEGORICAL, seriesColor, sequentialColor } from './palette.js';
export { findFonts, renderPng, type PngOptions } from './png.js';
export { formatTick, niceDomain, niceTicks } from './scale.js';
export type { Figure } from './svg.js';
