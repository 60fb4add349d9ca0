// PNG rendering of the chart SVGs with @resvg/resvg-js (a prebuilt native renderer shipped in npm packages).
// Fonts: the DejaVu files are loaded directly when found (fast and deterministic); otherwise system fonts
// are scanned; with no font at all the PNG is still written (shapes without text) and a warning is given.

import { existsSync } from 'node:fs';

/** Where fonts are looked for, first hit wins; MUSKETEERS_FONT (a .ttf/.otf path) comes before these. */
export const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/local/share/fonts/DejaVuSans.ttf',
  '/Library/Fonts/Arial.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

export interface FontChoice {
  /** Font files given to the renderer (regular and, when present, bold). */
  files: string[];
  /** Family name to use when the SVG's families are not found. */
  family: string;
  /** True when no file was found and system fonts are scanned instead. */
  fallback: boolean;
}

/** Pick the font files for PNG rendering: `explicit` list, MUSKETEERS_FONT, then FONT_CANDIDATES. */
export function findFonts(explicit?: string[]): FontChoice {
  if (explicit) return { files: explicit.filter((f) => existsSync(f)), family: 'DejaVu Sans', fallback: false };
  const env = process.env.MUSKETEERS_FONT;
  const candidates = env ? [env, ...FONT_CANDIDATES] : FONT_CANDIDATES;
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const files = [file];
    const bold = file.replace(/DejaVuSans\.ttf$/, 'DejaVuSans-Bold.ttf');
    if (bold !== file && existsSync(bold)) files.push(bold);
    const family = /dejavu/i.test(file) ? 'DejaVu Sans' : /arial/i.test(file) ? 'Arial' : 'sans-serif';
    return { files, family, fallback: false };
  }
  return { files: [], family: 'sans-serif', fallback: true };
}

export interface PngOptions {
  /** Pixel density: 2 gives a 1360 px wide image for a 680 px chart (default 2). */
  scale?: number;
  /** Font files to use instead of the search (an empty list means: no font files, system fonts only). */
  fontFiles?: string[];
  /** Scan system fonts too (default: only when no font file was found). */
  loadSystemFonts?: boolean;
  /** Called with a human message when text may not render (no font found). */
  onWarning?: (message: string) => void;
}

type ResvgModule = typeof import('@resvg/resvg-js');
let resvgModule: Promise<ResvgModule> | undefined;

async function loadResvg(): Promise<ResvgModule> {
  resvgModule ??= import('@resvg/resvg-js').catch((error: unknown) => {
    resvgModule = undefined;
    throw new Error(
      `PNG rendering needs @resvg/resvg-js with its prebuilt binary for ${process.platform}-${process.arch} ` +
        `(npm installs it as an optional dependency); SVG output still works. Cause: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  return resvgModule;
}

let warnedNoFont = false;

/** Render an SVG document to PNG bytes. */
export async function renderPng(svg: string, options: PngOptions = {}): Promise<Buffer> {
  const { Resvg } = await loadResvg();
  const fonts = findFonts(options.fontFiles);
  const noFont = fonts.files.length === 0;
  if (noFont && options.onWarning && !warnedNoFont) {
    warnedNoFont = true;
    options.onWarning(
      `no font file found (looked for ${[process.env.MUSKETEERS_FONT, ...FONT_CANDIDATES].filter(Boolean).slice(0, 3).join(', ')}, ...); ` +
        'scanning system fonts; PNG text may be missing (SVG files are unaffected). Set MUSKETEERS_FONT=/path/to/font.ttf to choose one.',
    );
  }
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    background: '#ffffff',
    font: {
      loadSystemFonts: options.loadSystemFonts ?? noFont,
      fontFiles: fonts.files,
      defaultFontFamily: fonts.family,
      sansSerifFamily: fonts.family,
    },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/** For tests: forget that the no-font warning was given. */
export function resetFontWarning(): void {
  warnedNoFont = false;
}
