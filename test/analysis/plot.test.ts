// The SVG chart library and PNG rendering: nice ticks, escaping, chart structure, PNG bytes, no-font fallback.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gridFigure, heatmap, lineChart, scatterChart, stackedAreaChart } from '../../src/analysis/plot/charts.js';
import { sequentialColor, seriesColor, textColorOn } from '../../src/analysis/plot/palette.js';
import { renderPng, resetFontWarning } from '../../src/analysis/plot/png.js';
import { formatTick, niceDomain, niceTicks } from '../../src/analysis/plot/scale.js';
import { escapeXml, linePath } from '../../src/analysis/plot/svg.js';

function pngSize(png: Buffer): [number, number] {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/** Crude well-formedness: every opened element is closed in order. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') assert.equal(stack.pop(), m[2], `closing </${m[2]}>`);
    else stack.push(m[2]);
  }
  assert.deepEqual(stack, []);
}

test('nice ticks and domains', () => {
  assert.deepEqual(niceTicks(0, 1, 5).values, [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(1, 200, 8).values, [25, 50, 75, 100, 125, 150, 175, 200]);
  assert.deepEqual(niceTicks(0, 10, 4).values, [0, 2.5, 5, 7.5, 10]);
  assert.equal(niceTicks(0, 10, 4).decimals, 1);
  assert.deepEqual(niceDomain(0.13, 0.87, 5).domain, [0, 1]);
  assert.deepEqual(niceDomain(-0.31, 0.42, 5).domain, [-0.4, 0.6]);
  // Degenerate range gets padding instead of a zero-width axis.
  const d = niceDomain(3, 3, 5).domain;
  assert.ok(d[0] < 3 && d[1] > 3);
  // A range below float resolution (found on a run whose metric was 19.99640078607803 twice, once rounded
  // differently) is one value, not an endless tick loop.
  const close = niceDomain(19.99640078607803, 19.996400786078034, 5);
  assert.ok(close.domain[0] < 19.9964 && close.domain[1] > 19.9965 && close.ticks.values.length <= 12);
  assert.ok(niceTicks(1e17, 1e17 + 16, 5).values.length <= 12);
  assert.equal(formatTick(-0.5, 1), '−0.5');
  assert.equal(formatTick(-0.0001, 1), '0.0');
  assert.equal(formatTick(20000, 0), '20k');
  assert.equal(formatTick(0.25, 2), '0.25');
});

test('escaping, paths with gaps, palette', () => {
  assert.equal(escapeXml('a<b & "c"'), 'a&lt;b &amp; &quot;c&quot;');
  assert.equal(linePath([0, 1, 2, 3], [0, NaN, 2, 3]), 'M0 0M2 2L3 3');
  assert.equal(new Set(Array.from({ length: 10 }, (_, i) => seriesColor(i))).size, 10);
  assert.equal(sequentialColor(0), '#440154');
  assert.equal(sequentialColor(1), '#fde725');
  assert.equal(textColorOn('#440154'), '#ffffff');
  assert.equal(textColorOn('#fde725'), '#000000');
});

test('line chart: series, band, legend, escaped labels, room for the legend', () => {
  const x = [1, 2, 3, 4];
  const f = lineChart(
    [
      { label: 'raw', x, y: [0.1, 0.3, 0.2, 0.5], showInLegend: false, opacity: 0.3 },
      { label: 'a<b', x, y: [0.1, 0.2, 0.3, 0.4], lower: [0, 0.1, 0.2, 0.3], upper: [0.2, 0.3, 0.4, 0.5] },
      { label: 'second series with a long name', x, y: [0.4, 0.3, 0.2, 0.1], markers: true },
    ],
    { title: 'T & t', xLabel: 'step', yLabel: 'reward', xInteger: true },
  );
  assertBalanced(f.svg);
  assert.ok(f.svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(f.svg.includes('a&lt;b') && f.svg.includes('T &amp; t'));
  assert.ok(!f.svg.includes('>raw<'), 'context series are not in the legend');
  assert.ok(f.svg.includes('fill-opacity="0.18"'), 'band drawn');
  // Integer x ticks only.
  assert.ok(!/>1\.5</.test(f.svg));
  assert.ok(f.width >= 680);
});

test('stacked area, scatter, heatmap and grid produce balanced SVG', () => {
  const area = stackedAreaChart([1, 2, 3], [{ label: 'e1', y: [0.5, 0.6, 0.7] }, { label: 'e2', y: [0.5, 0.4, NaN] }], { yDomain: [0, 1] });
  assertBalanced(area.svg);
  assert.throws(() => stackedAreaChart([1, 2], [{ label: 'e', y: [1] }]), RangeError);
  const sc = scatterChart([{ label: 'g1', x: [1, 2, 3], y: [3, 2, 1] }, { label: 'g2', x: [1, 2], y: [1, 2] }], { trendLines: true });
  assertBalanced(sc.svg);
  assert.equal((sc.svg.match(/<circle/g) ?? []).length, 5 + 2, 'five points and two legend markers');
  const hm = heatmap(['t1', 't2'], ['e1', 'e2', 'e3'], [[0.1, 0.2, 0.7], [0.3, NaN, 0.4]], { title: 'H', colorLabel: 'mass', domain: [0, 1] });
  assertBalanced(hm.svg);
  assert.ok(hm.svg.includes('>0.70<') && hm.svg.includes('>–<'));
  assert.throws(() => heatmap(['a'], ['b'], [[1, 2]]), RangeError);
  const grid = gridFigure([area, sc, hm], { columns: 2, title: 'grid' });
  assertBalanced(grid.svg);
  assert.equal(grid.width, 2 * Math.max(area.width, sc.width, hm.width));
});

test('PNG rendering with fonts, and without any font (still a PNG, with a warning)', async () => {
  const f = lineChart([{ label: 'a', x: [1, 2], y: [1, 2] }], { title: 'png', width: 400, height: 300 });
  const png = await renderPng(f.svg, { scale: 1 });
  assert.deepEqual(pngSize(png), [f.width, f.height]);
  resetFontWarning();
  const warnings: string[] = [];
  const bare = await renderPng(f.svg, { scale: 0.5, fontFiles: [], loadSystemFonts: false, onWarning: (m) => warnings.push(m) });
  assert.deepEqual(pngSize(bare), [Math.round(f.width / 2), Math.round(f.height / 2)]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /no font file found/);
});
