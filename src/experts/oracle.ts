// Oracle experts: a DIAGNOSTIC that sees answers. An oracle's state for an item is a deterministic,
// seeded function of that item's reference answer (the stored answer, or the task's example answer where
// many answers score, as propositional_logic's), so it holds exactly the information a policy needs
// and nothing else; training against it measures whether the router -> context-token interface can
// carry information at all (README: "Oracle experts"). Two encodings:
//   tokens  [S, width] per prompt: one row per answer token (the policy's tokenizer), the sum of a fixed
//           random code of the token's identity and one of its position (read like `tokens` pooling);
//   answer  [width]: one random vector per distinct answer string (read like `last` pooling), which the
//           policy can only use by memorising which vector means which answer.
// `noise` adds Gaussian noise of std noise * ||x|| / sqrt(width) per value (so ||noise|| ~ noise * ||x||);
// `corrupt` gives that fraction of items the answer of another item of the same task and split. Noise
// and corruption are fixed per item (seeded by the item's question), never fresh per call.
//
// Split discipline: an oracle reads only items of the config's own split. A training item's state is
// built from training answers only (its own, or another training item's when corrupted); an evaluation
// item's from evaluation answers only. An item of neither split is refused.

import { questionKey } from '../../tasks/composite.js';
import type { TaskEntry } from '../../tasks/types.js';
import { mulberry32 } from '../models/lora-init.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import { referenceAnswer } from '../world/format.js';
import type { PooledState } from './pooling.js';

export const ORACLE_ENCODINGS = ['tokens', 'answer'] as const;
export type OracleEncoding = (typeof ORACLE_ENCODINGS)[number];

export interface OracleSettings {
  name: string;
  encoding: OracleEncoding;
  width: number;
  /** Noise std relative to the state's RMS value (0: none). */
  noise: number;
  /** Fraction of items given another item's answer, in [0, 1]. */
  corrupt: number;
  seed: number;
}

/** The items an oracle may read: the config's training and evaluation splits. */
export interface OracleSplits {
  train: readonly TaskEntry[];
  eval: readonly TaskEntry[];
}

type SplitName = keyof OracleSplits;

/** 32-bit FNV-1a of a string: the seed of every per-item and per-code random stream. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const uniforms = mulberry32;

/** `width` standard normal values seeded by `key` (Box-Muller). */
export function gaussianVector(key: string, width: number): Float32Array {
  const u = uniforms(hash32(key));
  const out = new Float32Array(width);
  for (let i = 0; i < width; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const theta = 2 * Math.PI * u();
    out[i] = r * Math.cos(theta);
    if (i + 1 < width) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

interface KnownItem {
  split: SplitName;
  task: string;
  answer: string;
}

export class OracleExpert {
  readonly lastStats = { cached: 0, computed: 0 };
  private readonly items = new Map<string, KnownItem>();
  /** Answers per split and task, in split order (the pool corruption draws from). */
  private readonly answers = new Map<string, string[]>();

  constructor(
    readonly settings: OracleSettings,
    splits: OracleSplits,
    /** The policy's tokenizer (encoding `tokens`). */
    private readonly tokenizer?: TextTokenizer,
  ) {
    if (settings.encoding === 'tokens' && !tokenizer) throw new Error(`oracle expert '${settings.name}': encoding tokens needs the policy's tokenizer`);
    for (const split of ['train', 'eval'] as const) {
      for (const entry of splits[split]) {
        const task = String(entry.metadata.source_dataset);
        const key = questionKey(entry);
        if (split === 'eval' && this.items.get(key)?.split === 'train') throw new Error(`oracle expert '${settings.name}': a question is in both splits (${JSON.stringify(entry.question.slice(0, 60))})`);
        this.items.set(key, { split, task, answer: referenceAnswer(entry) });
        const pool = `${split}\u0000${task}`;
        if (!this.answers.has(pool)) this.answers.set(pool, []);
        this.answers.get(pool)!.push(referenceAnswer(entry));
      }
    }
  }

  get name(): string {
    return this.settings.name;
  }

  get width(): number {
    return this.settings.width;
  }

  /** The answer an item's state encodes: its own, or (corrupted) another answer of its task and split. */
  encodedAnswer(entry: TaskEntry): { answer: string; split: SplitName; corrupted: boolean } {
    const key = questionKey(entry);
    const known = this.items.get(key);
    if (!known) {
      throw new Error(
        `oracle expert '${this.name}' is a diagnostic that sees answers and reads only items of the config's training and evaluation splits; ` +
          `this item is in neither (${JSON.stringify(entry.question.slice(0, 80))}); remove the oracle from experts.models for this command`,
      );
    }
    const { corrupt, seed } = this.settings;
    const u = uniforms(hash32(`${seed}\u0000corrupt\u0000${key}`));
    if (corrupt <= 0 || u() >= corrupt) return { answer: known.answer, split: known.split, corrupted: false };
    const pool = this.answers.get(`${known.split}\u0000${known.task}`)!;
    const answer = pool[Math.floor(u() * pool.length)];
    return { answer, split: known.split, corrupted: true };
  }

  private tokenRows(answer: string): { rows: number; data: Float32Array } {
    const { width, seed } = this.settings;
    const ids = this.tokenizer!.encode(answer, { addBos: false });
    if (ids.length === 0) ids.push(this.tokenizer!.eosId ?? 0); // an empty answer still gets one row
    const data = new Float32Array(ids.length * width);
    ids.forEach((id, t) => {
      const token = gaussianVector(`${seed}\u0000token\u0000${id}`, width);
      const position = gaussianVector(`${seed}\u0000position\u0000${t}`, width);
      for (let i = 0; i < width; i++) data[t * width + i] = token[i] + position[i];
    });
    return { rows: ids.length, data };
  }

  /** One state per entry: [S, width] (tokens) or [width] (answer). */
  state(entry: TaskEntry): PooledState {
    const { encoding, width, seed, noise } = this.settings;
    const { answer } = this.encodedAnswer(entry);
    const base = encoding === 'tokens' ? this.tokenRows(answer) : { rows: 1, data: gaussianVector(`${seed}\u0000answer\u0000${answer}`, width) };
    if (noise > 0) addRowNoise(base.data, width, noise, `${seed}\u0000noise\u0000${questionKey(entry)}`);
    return encoding === 'tokens' ? { shape: [base.rows, width], data: base.data } : { shape: [width], data: base.data };
  }

  async extract(entries: readonly TaskEntry[]): Promise<PooledState[]> {
    const out = entries.map((e) => this.state(e));
    this.lastStats.cached = 0;
    this.lastStats.computed = entries.length;
    return out;
  }

  async dispose(): Promise<void> {}
}

/** In place: each row of `data` gets Gaussian noise of std sigma * rms(row), seeded by `key`. */
function addRowNoise(data: Float32Array, width: number, sigma: number, key: string): void {
  const z = gaussianVector(key, data.length);
  for (let r = 0; r < data.length / width; r++) {
    let s = 0;
    for (let i = 0; i < width; i++) s += data[r * width + i] ** 2;
    const std = sigma * Math.sqrt(s / width);
    for (let i = 0; i < width; i++) data[r * width + i] += std * z[r * width + i];
  }
}
