// A small SVG writer: escaping, number formatting, element helpers and text-width estimates. Charts are
// assembled as strings; nothing here depends on a DOM.

/** Font stack used by every chart (DejaVu Sans is what the PNG renderer loads; the rest is for browsers). */
export const FONT_FAMILY = "'DejaVu Sans', Verdana, Helvetica, Arial, sans-serif";

export interface Figure {
  /** A complete SVG document. */
  svg: string;
  width: number;
  height: number;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Coordinates in the SVG: two decimals are plenty and keep files small. */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

export type Attrs = Record<string, string | number | undefined>;

function attrs(a: Attrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? num(v) : escapeXml(v)}"`;
  }
  return s;
}

export function el(name: string, a: Attrs, children?: string): string {
  return children === undefined ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${children}</${name}>`;
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  /** Rotation in degrees about (x, y). */
  rotate?: number;
  /** Vertical placement relative to y: 'baseline' (default), 'middle' or 'hanging' (top at y). */
  baseline?: 'baseline' | 'middle' | 'hanging';
}

/**
 * A text element. Vertical alignment is done with explicit offsets rather than `dominant-baseline`, which
 * renderers implement inconsistently.
 */
export function text(x: number, y: number, content: string, o: TextOptions = {}): string {
  const size = o.size ?? 12;
  const dy = o.baseline === 'middle' ? size * 0.35 : o.baseline === 'hanging' ? size * 0.8 : 0;
  const transform = o.rotate ? `rotate(${num(o.rotate)} ${num(x)} ${num(y)})` : undefined;
  return el(
    'text',
    {
      x,
      y: y + dy,
      'font-size': size,
      'text-anchor': o.anchor && o.anchor !== 'start' ? o.anchor : undefined,
      'font-weight': o.weight === 'bold' ? 'bold' : undefined,
      fill: o.fill,
      transform,
    },
    escapeXml(content),
  );
}

/** Polyline path through the points, broken into separate subpaths at non-finite values. */
export function linePath(xs: readonly number[], ys: readonly number[]): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${num(xs[i])} ${num(ys[i])}`;
    pen = true;
  }
  return d;
}

// Approximate advance widths of DejaVu Sans in em, by character class; used for layout (margins, legend
// width, label collision), erring slightly wide.
const NARROW = new Set([...'iljt.,:;!|\'()[]{} 1fr']);
const WIDE = new Set([...'mwMWOQGDHNU%@ρ']);

export function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) w += NARROW.has(ch) ? 0.36 : WIDE.has(ch) ? 0.86 : ch >= 'A' && ch <= 'Z' ? 0.7 : 0.62;
  return w * size;
}

/** Shorten `s` with an ellipsis so it fits `maxWidth` at `size`. */
export function fitText(s: string, size: number, maxWidth: number): string {
  if (textWidth(s, size) <= maxWidth) return s;
  let t = s;
  while (t.length > 1 && textWidth(`${t}…`, size) > maxWidth) t = t.slice(0, -1);
  return `${t}…`;
}

export function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" ` +
    `font-family="${escapeXml(FONT_FAMILY)}">\n` +
    `<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#ffffff"/>\n${body}\n</svg>\n`
  );
}
