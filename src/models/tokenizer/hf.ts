// Loads a Hugging Face `tokenizer.json` (+ `tokenizer_config.json` beside it) through
// `@huggingface/tokenizers` (tokenizers.js) and wraps it as the project's TextTokenizer.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import { Tokenizer } from '@huggingface/tokenizers';

import type { HfConfigToken, HfTokenizerConfig } from './format.js';
import type { DecodeOptions, EncodeOptions, TextTokenizer } from './types.js';

/** Model types tokenizers.js implements (`WordLevel` and others are not). */
export const SUPPORTED_MODEL_TYPES = ['BPE', 'WordPiece', 'Unigram'] as const;

/** A tokenizer file is missing, unreadable, not JSON, or describes something tokenizers.js cannot run. */
export class TokenizerLoadError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'TokenizerLoadError';
  }
}

export interface TokenizerPaths {
  /** Directory holding the files. */
  dir: string;
  tokenizerJsonPath: string;
  /** `tokenizer_config.json` beside tokenizer.json, when it exists. */
  configPath: string | undefined;
}

/** Resolve a model directory or a tokenizer.json path to the files to read; throws when tokenizer.json is missing. */
export function resolveTokenizerPaths(path: string): TokenizerPaths {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    throw new TokenizerLoadError(
      `tokenizer path ${abs} does not exist: expected a directory containing tokenizer.json ` +
        `(and optionally tokenizer_config.json), or the path of a tokenizer.json file`,
      abs,
    );
  }
  let tokenizerJsonPath = abs;
  if (statSync(abs).isDirectory()) {
    tokenizerJsonPath = join(abs, 'tokenizer.json');
    if (!existsSync(tokenizerJsonPath)) {
      throw new TokenizerLoadError(
        `no tokenizer.json in ${abs} (looked for ${tokenizerJsonPath}): expected a Hugging Face tokenizer.json (the "fast" tokenizer file); ` +
          `models with only vocab/merges or sentencepiece files must be converted with the Python ` +
          '`tokenizers`/`transformers` library first',
        tokenizerJsonPath,
      );
    }
  }
  const dir = dirname(tokenizerJsonPath);
  const configCandidate = join(dir, 'tokenizer_config.json');
  return { dir, tokenizerJsonPath, configPath: existsSync(configCandidate) ? configCandidate : undefined };
}

function readJsonObject(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TokenizerLoadError(`cannot read ${what} ${path}: ${(error as Error).message}`, path);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(
      `${what} ${path} is not valid JSON (${(error as Error).message}); the file is corrupt or truncated: ` +
        're-create it (e.g. re-save the tokenizer) or restore it from the model source',
      path,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerLoadError(`${what} ${path} must hold a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}`, path);
  }
  return value as Record<string, unknown>;
}

function tokenName(value: HfConfigToken | unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

export interface TokenizerFromJsonOptions {
  /** Name of the tokenizer; default: config `name_or_path`, else 'tokenizer'. */
  name?: string;
  /** Where the JSON came from, used in error messages. */
  source?: string;
}

/** Build a TextTokenizer from parsed tokenizer.json / tokenizer_config.json objects. */
export function tokenizerFromJson(json: unknown, config: HfTokenizerConfig = {}, options: TokenizerFromJsonOptions = {}): TextTokenizer {
  const source = options.source ?? 'tokenizer.json';
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TokenizerLoadError(`${source} must hold a JSON object (a Hugging Face tokenizer.json)`, source);
  }
  const obj = json as Record<string, unknown>;
  const model = obj.model as Record<string, unknown> | undefined;
  if (model === null || typeof model !== 'object') {
    throw new TokenizerLoadError(`${source} has no "model" object: it is not a Hugging Face tokenizer.json`, source);
  }
  const type = model.type;
  if (type !== undefined && !(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(type)) {
    throw new TokenizerLoadError(
      `${source}: unsupported tokenizer model type '${String(type)}'; @huggingface/tokenizers supports ` +
        `${SUPPORTED_MODEL_TYPES.join(', ')} (convert the tokenizer to one of them)`,
      source,
    );
  }
  // tokenizers.js requires these keys to be present (null is fine); older files may omit some.
  const full = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...obj };
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(full, config);
  } catch (error) {
    throw new TokenizerLoadError(`cannot build a tokenizer from ${source}: ${(error as Error).message}`, source);
  }
  const name = options.name ?? (typeof config.name_or_path === 'string' && config.name_or_path !== '' ? config.name_or_path : 'tokenizer');
  return new HfTextTokenizer(tok, name, config, typeof model.unk_token === 'string' ? model.unk_token : undefined, source);
}

/**
 * Load a tokenizer from a model directory (reads `tokenizer.json` and, when present,
 * `tokenizer_config.json`) or from the path of a tokenizer.json file.
 */
export function loadTokenizer(path: string, options: { name?: string } = {}): TextTokenizer {
  const paths = resolveTokenizerPaths(path);
  const json = readJsonObject(paths.tokenizerJsonPath, 'tokenizer file');
  const config = paths.configPath ? (readJsonObject(paths.configPath, 'tokenizer config') as HfTokenizerConfig) : {};
  const configName = typeof config.name_or_path === 'string' && config.name_or_path !== '' ? config.name_or_path : undefined;
  return tokenizerFromJson(json, config, {
    name: options.name ?? configName ?? basename(paths.dir),
    source: paths.tokenizerJsonPath,
  });
}

/** TextTokenizer over a tokenizers.js Tokenizer. */
class HfTextTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly padId: number | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number | undefined;
  readonly specialIds: ReadonlySet<number>;

  constructor(
    private readonly tok: Tokenizer,
    readonly name: string,
    config: HfTokenizerConfig,
    modelUnkToken: string | undefined,
    private readonly source: string,
  ) {
    const vocab = tok.model?.vocab ?? [];
    this.vocabSize = vocab.length;
    const special = new Set<number>();
    for (const [id, added] of tok.get_added_tokens_decoder()) if (added.special) special.add(id);
    const idOf = (field: string, value: unknown): number | undefined => {
      const content = tokenName(value);
      if (content === undefined) return undefined;
      const id = tok.token_to_id(content);
      if (id === undefined) {
        throw new TokenizerLoadError(
          `tokenizer_config.json names ${field} '${content}' but ${source} has no such token; fix ${field} in tokenizer_config.json`,
          source,
        );
      }
      special.add(id);
      return id;
    };
    this.padId = idOf('pad_token', config.pad_token);
    this.bosId = idOf('bos_token', config.bos_token);
    this.eosId = idOf('eos_token', config.eos_token);
    this.unkId = idOf('unk_token', config.unk_token ?? modelUnkToken);
    for (const extra of config.additional_special_tokens ?? []) {
      const content = tokenName(extra);
      const id = content === undefined ? undefined : tok.token_to_id(content);
      if (id !== undefined) special.add(id);
    }
    this.specialIds = special;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = text === '' ? [] : this.tok.encode(text, { add_special_tokens: false }).ids;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === undefined) {
        throw new Error(
          `tokenizer '${this.name}' (${this.source}) cannot encode part of the text (token ${i}) and has no unk token; ` +
            'use a byte-level tokenizer or one with an unk_token',
        );
      }
    }
    if (options.addBos) ids.unshift(this.requireSpecial('bos', this.bosId));
    if (options.addEos) ids.push(this.requireSpecial('eos', this.eosId));
    return ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`tokenizer '${this.name}': cannot decode id ${id}; ids must be integers in [0, ${this.vocabSize})`);
      }
    }
    const kept = options.skipSpecial ? ids.filter((id) => !this.specialIds.has(id)) : ids;
    if (kept.length === 0) return '';
    return this.tok.decode(kept as number[], { skip_special_tokens: options.skipSpecial ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  private requireSpecial(kind: 'bos' | 'eos', id: number | undefined): number {
    if (id === undefined) {
      throw new Error(
        `tokenizer '${this.name}' has no ${kind.toUpperCase()} token (${kind}_token is not set in tokenizer_config.json); ` +
          `encode without add${kind === 'bos' ? 'Bos' : 'Eos'}`,
      );
    }
    return id;
  }
}
