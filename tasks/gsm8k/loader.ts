// GSM8K from a local path. Nothing is ever downloaded: a missing dataset is a DatasetNotFoundError
// that lists every place looked at and says how to get the files.
//
// Accepted inputs (`split` picks the file inside a directory):
//   - a single JSONL file: one `{"question": ..., "answer": "...#### N"}` object per line
//     (OpenAI's grade-school-math `grade_school_math/data/{train,test}.jsonl`);
//   - a single `.parquet` file with string columns `question` and `answer` (Hugging Face export);
//   - a directory, searched in this order for the split:
//       main/{split}-*.parquet | main/{split}.parquet      (HF hub `openai/gsm8k` snapshot)
//       {split}-*.parquet      | {split}.parquet           (flat shards, e.g. the `main/` dir itself)
//       data/{split}-*.parquet | data/{split}.parquet
//       {split}.jsonl, data/{split}.jsonl, grade_school_math/data/{split}.jsonl  (OpenAI layout)
//     Several parquet shards are read in name order and concatenated.
// A single file is used as given, whatever `split` says (the split is only recorded in metadata).
//
// Entries have Reasoning Gym's shape: `answer` is the final number after `#### ` with commas
// removed, `metadata.full_answer` the whole reference text (what the harness scores against).

import { open, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { parquetMetadata, parquetReadObjects, parquetSchema, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

import type { TaskEntry } from '../types.js';
import { gsm8kTargetNumber } from './scoring.js';

export type Gsm8kSplit = 'train' | 'test';
export const GSM8K_SPLITS: readonly Gsm8kSplit[] = ['train', 'test'];

export interface Gsm8kEntry extends TaskEntry {
  answer: string;
  metadata: {
    source_dataset: 'gsm8k';
    source_index: number;
    split: Gsm8kSplit;
    full_answer: string;
  };
}

export interface LoadGsm8kOptions {
  /** Which split to read from a directory; default 'test'. */
  split?: Gsm8kSplit;
  /** Keep only the first `limit` entries (in file order). */
  limit?: number;
}

const HOW_TO_GET =
  'GSM8K is not downloaded automatically. Get it from the Hugging Face dataset openai/gsm8k ' +
  '(the parquet files main/train-00000-of-00001.parquet and main/test-00000-of-00001.parquet) or ' +
  "from OpenAI's grade-school-math repository (grade_school_math/data/train.jsonl and test.jsonl), " +
  'then pass --data PATH or set data.gsm8k.path in the config.';

/** The dataset is not at the given path; `paths` lists every file or pattern that was looked for. */
export class DatasetNotFoundError extends Error {
  readonly paths: string[];
  constructor(message: string, paths: string[]) {
    super(message);
    this.name = 'DatasetNotFoundError';
    this.paths = paths;
  }
}

/** The data file exists but one of its records is unusable; `file` and `line`/`row` say where. */
export class DatasetFormatError extends Error {
  readonly file: string;
  /** 1-based line number for JSONL. */
  readonly line?: number;
  /** 0-based row number for parquet. */
  readonly row?: number;
  constructor(message: string, where: { file: string; line?: number; row?: number }) {
    super(message);
    this.name = 'DatasetFormatError';
    this.file = where.file;
    this.line = where.line;
    this.row = where.row;
  }
}

export interface ResolvedGsm8kSource {
  format: 'jsonl' | 'parquet';
  files: string[];
}

function notFound(split: Gsm8kSplit, looked: string[]): DatasetNotFoundError {
  const list = looked.map((p) => `  - ${p}`).join('\n');
  return new DatasetNotFoundError(`GSM8K ${split} split not found. Looked for:\n${list}\n${HOW_TO_GET}`, looked);
}

async function statOrNull(p: string) {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

/** A `.parquet` name, or any file that starts with the parquet magic `PAR1`; anything else is JSONL. */
async function isParquetFile(file: string): Promise<boolean> {
  if (file.toLowerCase().endsWith('.parquet')) return true;
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === 'PAR1';
  } finally {
    await handle.close();
  }
}

/** Parquet files of `split` in `dir`: `{split}.parquet` or shards `{split}-*.parquet`, name order. */
async function parquetShards(dir: string, split: Gsm8kSplit): Promise<string[]> {
  const st = await statOrNull(dir);
  if (!st?.isDirectory()) return [];
  const names = (await readdir(dir)).filter(
    (n) => n === `${split}.parquet` || (n.startsWith(`${split}-`) && n.endsWith('.parquet')),
  );
  names.sort();
  const files: string[] = [];
  for (const n of names) {
    const p = path.join(dir, n);
    if ((await statOrNull(p))?.isFile()) files.push(p);
  }
  return files;
}

/** Find the files to read for `split` under `dataPath`, or throw DatasetNotFoundError. */
export async function resolveGsm8kSource(dataPath: string, split: Gsm8kSplit = 'test'): Promise<ResolvedGsm8kSource> {
  if (!GSM8K_SPLITS.includes(split)) {
    throw new Error(`unknown GSM8K split ${JSON.stringify(split)}; use one of: ${GSM8K_SPLITS.join(', ')}`);
  }
  const root = path.resolve(dataPath);
  const st = await statOrNull(root);
  if (st === null) throw notFound(split, [root]);
  if (st.isFile()) return { format: (await isParquetFile(root)) ? 'parquet' : 'jsonl', files: [root] };

  const looked: string[] = [];
  for (const sub of ['main', '.', 'data']) {
    const dir = path.join(root, sub);
    looked.push(path.join(dir, `${split}-*.parquet`), path.join(dir, `${split}.parquet`));
    const files = await parquetShards(dir, split);
    if (files.length > 0) return { format: 'parquet', files };
  }
  for (const rel of [`${split}.jsonl`, `data/${split}.jsonl`, `grade_school_math/data/${split}.jsonl`]) {
    const file = path.join(root, rel);
    looked.push(file);
    if ((await statOrNull(file))?.isFile()) return { format: 'jsonl', files: [file] };
  }
  throw notFound(split, looked);
}

interface RawRecord {
  question: string;
  full_answer: string;
}

/** Validate one record's fields; returns a description of the problem or the record. */
function checkRecord(obj: unknown): RawRecord | string {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return `expected a JSON object with "question" and "answer", got ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : typeof obj}`;
  }
  const rec = obj as Record<string, unknown>;
  for (const key of ['question', 'answer']) {
    if (!(key in rec)) return `missing field "${key}"`;
    if (typeof rec[key] !== 'string') return `field "${key}" must be a string, got ${rec[key] === null ? 'null' : typeof rec[key]}`;
  }
  const answer = rec.answer as string;
  if (gsm8kTargetNumber(answer) === null) return 'field "answer" has no "#### " final-answer marker';
  return { question: rec.question as string, full_answer: answer };
}

async function readJsonl(file: string): Promise<RawRecord[]> {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n');
  const out: RawRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new DatasetFormatError(`${file}:${i + 1}: invalid JSON (${why})`, { file, line: i + 1 });
    }
    const rec = checkRecord(obj);
    if (typeof rec === 'string') throw new DatasetFormatError(`${file}:${i + 1}: ${rec}`, { file, line: i + 1 });
    out.push(rec);
  }
  return out;
}

async function readParquet(file: string): Promise<RawRecord[]> {
  const buf = await readFile(file);
  const data = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let columns: string[];
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(data);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DatasetFormatError(`${file}: not a readable parquet file (${why})`, { file });
  }
  for (const key of ['question', 'answer']) {
    if (!columns.includes(key)) {
      throw new DatasetFormatError(`${file}: parquet file has no "${key}" column (columns: ${columns.join(', ') || 'none'})`, { file });
    }
  }
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: data, metadata, columns: ['question', 'answer'], compressors });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DatasetFormatError(`${file}: could not read parquet data (${why})`, { file });
  }
  return rows.map((row, i) => {
    const rec = checkRecord(row);
    if (typeof rec === 'string') throw new DatasetFormatError(`${file}: row ${i}: ${rec}`, { file, row: i });
    return rec;
  });
}

/**
 * Load GSM8K entries from a local JSONL file, parquet file or dataset directory (see the file
 * header for the layouts). Throws DatasetNotFoundError when nothing is there and
 * DatasetFormatError (naming file and line/row) when a record is malformed.
 */
export async function loadGsm8k(dataPath: string, options: LoadGsm8kOptions = {}): Promise<Gsm8kEntry[]> {
  const split = options.split ?? 'test';
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw new Error(`GSM8K limit must be a non-negative integer, got ${limit}`);
  }
  const source = await resolveGsm8kSource(dataPath, split);
  const entries: Gsm8kEntry[] = [];
  for (const file of source.files) {
    if (limit !== undefined && entries.length >= limit) break;
    const records = source.format === 'parquet' ? await readParquet(file) : await readJsonl(file);
    for (const rec of records) {
      if (limit !== undefined && entries.length >= limit) break;
      entries.push({
        question: rec.question,
        answer: gsm8kTargetNumber(rec.full_answer) as string,
        metadata: { source_dataset: 'gsm8k', source_index: entries.length, split, full_answer: rec.full_answer },
      });
    }
  }
  return entries;
}
