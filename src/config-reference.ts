// The config reference, generated from the schema itself (types, defaults, descriptions), so the
// README table and `musketeers config reference` can never drift from what is validated.

import { z } from 'zod';

import { configSchema } from './config.js';

export interface ReferenceRow {
  key: string;
  type: string;
  default: string;
  description: string;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  entries?: Record<string, string>;
  in?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

function typeName(s: z.ZodType): string {
  const def = defOf(s);
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
      return typeName(def.innerType!);
    case 'nullable':
      return `${typeName(def.innerType!)} | null`;
    case 'enum':
      return Object.values(def.entries!).map((v) => `\`${v}\``).join(' | ');
    case 'array':
      return `list of ${typeName(def.element!)}`;
    case 'record':
      return 'mapping';
    case 'pipe':
      return typeName(def.in!);
    case 'number': {
      const checks = (s as unknown as { _zod: { def: { checks?: { _zod: { def: { check: string; format?: string } } }[] } } })._zod.def.checks ?? [];
      return checks.some((c) => c._zod.def.format === 'safeint' || c._zod.def.check === 'number_format') ? 'integer' : 'number';
    }
    default:
      return def.type;
  }
}

function defaultOf(s: z.ZodType): unknown {
  const def = defOf(s);
  if (def.type === 'default' || def.type === 'prefault') return def.defaultValue;
  if (def.type === 'optional' || def.type === 'nullable') return def.innerType ? defaultOf(def.innerType) : undefined;
  return undefined;
}

function unwrapObject(s: z.ZodType): z.ZodObject | undefined {
  const def = defOf(s);
  if (def.type === 'object') return s as z.ZodObject;
  if (def.innerType) return unwrapObject(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrapObject(def.in);
  return undefined;
}

function walk(schema: z.ZodType, prefix: string, rows: ReferenceRow[]): void {
  const obj = unwrapObject(schema);
  if (!obj) return;
  for (const [key, child] of Object.entries(obj.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = unwrapObject(child);
    const def = defaultOf(child);
    rows.push({
      key: path,
      type: nested ? 'section' : typeName(child),
      default: nested ? '' : def === undefined ? (defOf(child).type === 'optional' ? 'optional' : 'required') : `\`${JSON.stringify(def)}\``,
      description: child.description ?? '',
    });
    if (nested) walk(nested, path, rows);
    const d = defOf(child);
    const arrayOf = d.type === 'array' ? d.element : d.innerType && defOf(d.innerType).type === 'array' ? defOf(d.innerType).element : undefined;
    if (arrayOf && unwrapObject(arrayOf)) walk(arrayOf, `${path}[]`, rows);
  }
}

export function configReferenceRows(): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  walk(configSchema, '', rows);
  return rows;
}

export function configReferenceMarkdown(): string {
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = ['| key | type | default | description |', '| --- | --- | --- | --- |'];
  for (const r of configReferenceRows()) lines.push(`| \`${r.key}\` | ${esc(r.type)} | ${esc(r.default)} | ${esc(r.description)} |`);
  return lines.join('\n');
}
